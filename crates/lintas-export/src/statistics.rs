//! Aggregated statistics for regional reporting, with HTCDS v2.0 field
//! names and values (docs/HTCDS-MAPPING.md), and small cells suppressed so
//! that no figure points at a handful of people (docs/EXPORTS.md).

use std::collections::BTreeMap;

use lintas_core::ids::Nationality;
use lintas_core::time::Timestamp;
use lintas_core::vocab::{AgeBand, StateRole};
use serde::Serialize;

use crate::ExportError;
use crate::holdings::HeldCase;

/// The smallest cell shown when the caller does not say.
pub const DEFAULT_MIN_CELL: u64 = 5;

/// Which cases to count.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatisticsOptions {
    /// Cells (and totals) below this are suppressed; at least 2.
    pub min_cell: u64,
    /// Only the exporting agency's own cases (the default: each state
    /// reports the cases it opened, so that regional sums do not count a
    /// case twice); otherwise every case record the node holds.
    pub own_only: bool,
    /// Cases opened at or after this.
    pub opened_from: Option<Timestamp>,
    /// Cases opened before this.
    pub opened_before: Option<Timestamp>,
}

impl Default for StatisticsOptions {
    fn default() -> Self {
        StatisticsOptions {
            min_cell: DEFAULT_MIN_CELL,
            own_only: true,
            opened_from: None,
            opened_before: None,
        }
    }
}

/// One figure of a table: `count` is `None` when suppressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// The value counted (an HTCDS value name, a country's alpha-2 code,
    /// an age band, a route).
    pub value: String,
    /// How many, or `None` when suppressed.
    pub count: Option<u64>,
}

/// One table: what is counted, by which field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    /// The table's name, e.g. `victims_by_citizenship`.
    pub table: &'static str,
    /// What a count counts: `cases` or `victims`.
    pub unit: &'static str,
    /// The HTCDS field (or the Lintas extension) the values come from.
    pub field: &'static str,
    /// True when one victim can count under several values (citizenship,
    /// type of exploitation): the cells then add up to more than the total.
    pub multiple: bool,
    /// How many cases or victims in all, or `None` when suppressed.
    pub total: Option<u64>,
    /// The cells, by value.
    pub cells: Vec<Cell>,
}

/// The statistics of a set of cases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statistics {
    /// `HTCDS v2.0`.
    pub standard: &'static str,
    /// The smallest cell shown.
    pub min_cell: u64,
    /// `own` or `held`.
    pub cases_counted: &'static str,
    /// The period's start (cases opened at or after), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opened_from: Option<String>,
    /// The period's end (cases opened before), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opened_before: Option<String>,
    /// The tables.
    pub tables: Vec<Table>,
}

/// Counts `cases` into the regional tables.
///
/// # Errors
/// [`ExportError::Option`] for a `min_cell` below 2 (1 would suppress
/// nothing).
pub fn statistics(
    cases: &[HeldCase],
    options: &StatisticsOptions,
) -> Result<Statistics, ExportError> {
    if options.min_cell < 2 {
        return Err(ExportError::Option {
            option: "min_cell",
            expected: "2 or more (1 would suppress nothing)",
            found: options.min_cell.to_string(),
        });
    }
    let counted: Vec<&HeldCase> = cases
        .iter()
        .filter(|c| c.own || !options.own_only)
        .filter(|c| {
            options
                .opened_from
                .is_none_or(|from| c.case.opened_at >= from)
        })
        .filter(|c| {
            options
                .opened_before
                .is_none_or(|end| c.case.opened_at < end)
        })
        .collect();

    let mut by_status = Counter::default();
    let mut by_route = Counter::default();
    let mut citizenship = Counter::default();
    let mut gender = Counter::default();
    let mut age = Counter::default();
    let mut exploitation = Counter::default();
    let mut victims_by_route = Counter::default();
    for held in &counted {
        let case = &held.case;
        by_status.add(htcds_value(&case.status.label()));
        let route = route(held);
        by_route.add(route.clone());
        for victim in &case.victims {
            victims_by_route.add(route.clone());
            citizenship.add_all(victim.nationalities.iter().map(citizenship_value));
            gender.add(htcds_value(&victim.gender.label()));
            age.add(age_band(victim.age_band).to_owned());
            exploitation.add_all(victim.exploitation.iter().map(|e| htcds_value(&e.label())));
        }
    }
    let k = options.min_cell;
    let tables = vec![
        by_status.table("cases_by_status", "cases", "cas_Status", false, k),
        by_route.table(
            "cases_by_route",
            "cases",
            "route (Lintas Case.states)",
            false,
            k,
        ),
        citizenship.table(
            "victims_by_citizenship",
            "victims",
            "prs_Citizenship",
            true,
            k,
        ),
        gender.table("victims_by_gender", "victims", "prs_Gender", false, k),
        age.table(
            "victims_by_age_band",
            "victims",
            "vic_AgeWhenTrafficked (band)",
            false,
            k,
        ),
        exploitation.table(
            "victims_by_exploitation",
            "victims",
            "vic_TypeOfExploitation",
            true,
            k,
        ),
        victims_by_route.table(
            "victims_by_route",
            "victims",
            "route (Lintas Case.states)",
            false,
            k,
        ),
    ];
    Ok(Statistics {
        standard: "HTCDS v2.0",
        min_cell: k,
        cases_counted: if options.own_only { "own" } else { "held" },
        opened_from: options.opened_from.map(|t| t.to_string()),
        opened_before: options.opened_before.map(|t| t.to_string()),
        tables,
    })
}

/// Counts per value, and the number of items counted.
#[derive(Debug, Default)]
struct Counter {
    cells: BTreeMap<String, u64>,
    /// Items counted (a victim with several values once).
    items: u64,
}

impl Counter {
    fn add(&mut self, value: String) {
        *self.cells.entry(value).or_default() += 1;
        self.items += 1;
    }

    fn add_all(&mut self, values: impl Iterator<Item = String>) {
        for value in values {
            *self.cells.entry(value).or_default() += 1;
        }
        self.items += 1;
    }

    fn table(
        self,
        table: &'static str,
        unit: &'static str,
        field: &'static str,
        multiple: bool,
        k: u64,
    ) -> Table {
        let total = self.items;
        let (total, cells) = suppress(total, self.cells, k);
        Table {
            table,
            unit,
            field,
            multiple,
            total,
            cells,
        }
    }
}

/// Primary suppression: every count below `k` is withheld, and the total
/// too when it is below `k`. Secondary: when exactly one cell is withheld
/// and the total is shown, the withheld count could be worked out as the
/// total minus the others, so the smallest shown cell is withheld too.
fn suppress(total: u64, counts: BTreeMap<String, u64>, k: u64) -> (Option<u64>, Vec<Cell>) {
    let mut cells: Vec<Cell> = counts
        .into_iter()
        .map(|(value, n)| Cell {
            value,
            count: (n >= k).then_some(n),
        })
        .collect();
    let total = (total >= k).then_some(total);
    let withheld = cells.iter().filter(|c| c.count.is_none()).count();
    if withheld == 1 && total.is_some() {
        let smallest = cells
            .iter_mut()
            .filter(|c| c.count.is_some())
            .min_by_key(|c| c.count);
        if let Some(cell) = smallest {
            cell.count = None;
        }
    }
    (total, cells)
}

/// An HTCDS value name from a Lintas label: `forced labour` → `ForcedLabour`.
fn htcds_value(label: &str) -> String {
    label
        .split(' ')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect()
}

/// `prs_Citizenship`: ISO 3166 alpha-2; the ICAO codes for the stateless,
/// refugees and unknown nationality as they are (they have no ISO code).
fn citizenship_value(n: &Nationality) -> String {
    match n.country() {
        Some(country) => country.alpha2().to_owned(),
        None => n.as_str().to_owned(),
    }
}

fn age_band(band: AgeBand) -> &'static str {
    match band {
        AgeBand::Unknown => "unknown",
        AgeBand::Under12 => "0-11",
        AgeBand::From12To17 => "12-17",
        AgeBand::From18To24 => "18-24",
        AgeBand::From25To34 => "25-34",
        AgeBand::From35To49 => "35-49",
        AgeBand::From50 => "50+",
    }
}

/// A case's route: origin, transit and destination states in that order
/// (alpha-2, several in a role joined by `+`), e.g. `ID > TH > KH`.
fn route(held: &HeldCase) -> String {
    let role = |r: StateRole| {
        let mut states: Vec<&str> = held
            .case
            .states_in_role(r)
            .filter_map(|s| {
                lintas_core::ids::Country::parse(s.code())
                    .ok()
                    .map(|c| c.alpha2())
            })
            .collect();
        states.sort_unstable();
        if states.is_empty() {
            "?".to_owned()
        } else {
            states.join("+")
        }
    };
    format!(
        "{} > {} > {}",
        role(StateRole::Origin),
        role(StateRole::Transit),
        role(StateRole::Destination)
    )
}

impl Statistics {
    /// The tables as CSV (RFC 4180): `table,unit,field,value,count`, one
    /// row per cell after one `(total)` row per table; a suppressed count
    /// is `suppressed`.
    ///
    /// # Errors
    /// Never in practice (the rows are written to memory).
    pub fn to_csv(&self) -> Result<String, ExportError> {
        let mut out = csv::Writer::from_writer(Vec::new());
        let count = |c: Option<u64>| c.map_or_else(|| "suppressed".to_owned(), |n| n.to_string());
        out.write_record(["table", "unit", "field", "value", "count"])?;
        for t in &self.tables {
            out.write_record([t.table, t.unit, t.field, "(total)", &count(t.total)])?;
            for cell in &t.cells {
                out.write_record([t.table, t.unit, t.field, &cell.value, &count(cell.count)])?;
            }
        }
        let bytes = out
            .into_inner()
            .map_err(|e| ExportError::Csv(e.into_error().into()))?;
        String::from_utf8(bytes)
            .map_err(|e| ExportError::Csv(csv::Error::from(std::io::Error::other(e))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
        pairs.iter().map(|(v, n)| ((*v).to_owned(), *n)).collect()
    }

    fn shown(cells: &[Cell]) -> Vec<(&str, Option<u64>)> {
        cells.iter().map(|c| (c.value.as_str(), c.count)).collect()
    }

    #[test]
    fn cells_under_the_threshold_are_withheld_and_so_is_the_total_when_small() {
        let (total, cells) = suppress(17, counts(&[("ID", 7), ("PH", 6), ("MM", 2), ("VN", 2)]), 5);
        assert_eq!(total, Some(17));
        assert_eq!(
            shown(&cells),
            [("ID", Some(7)), ("MM", None), ("PH", Some(6)), ("VN", None)]
        );
        let (total, cells) = suppress(4, counts(&[("ID", 4)]), 5);
        assert_eq!((total, shown(&cells)), (None, vec![("ID", None)]));
    }

    #[test]
    fn a_single_withheld_cell_takes_the_smallest_shown_one_with_it() {
        // 20 = 9 + 8 + 3: showing 9, 8 and the total would give the 3 away.
        let (total, cells) = suppress(20, counts(&[("ID", 9), ("PH", 8), ("MM", 3)]), 5);
        assert_eq!(total, Some(20));
        assert_eq!(shown(&cells), [("ID", Some(9)), ("MM", None), ("PH", None)]);
        // With the total withheld there is nothing to subtract from.
        let (total, cells) = suppress(4, counts(&[("ID", 3), ("PH", 1)]), 5);
        assert_eq!(total, None);
        assert_eq!(shown(&cells), [("ID", None), ("PH", None)]);
    }

    #[test]
    fn htcds_value_names_come_from_labels() {
        assert_eq!(htcds_value("forced labour"), "ForcedLabour");
        assert_eq!(htcds_value("non specified unknown"), "NonSpecifiedUnknown");
        assert_eq!(htcds_value("closed referred"), "ClosedReferred");
        assert_eq!(
            htcds_value("forced military by non state actors"),
            "ForcedMilitaryByNonStateActors"
        );
    }

    #[test]
    fn a_threshold_of_one_is_refused_by_name() {
        let options = StatisticsOptions {
            min_cell: 1,
            ..StatisticsOptions::default()
        };
        let error = statistics(&[], &options).err().map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("min_cell: expected 2 or more (1 would suppress nothing), found 1")
        );
    }

    #[test]
    fn csv_quotes_what_needs_quoting() -> Result<(), ExportError> {
        let figures = Statistics {
            standard: "HTCDS v2.0",
            min_cell: 5,
            cases_counted: "own",
            opened_from: None,
            opened_before: None,
            tables: vec![Table {
                table: "cases_by_route",
                unit: "cases",
                field: "route (Lintas Case.states)",
                multiple: false,
                total: Some(6),
                cells: vec![Cell {
                    value: "ID > TH, \"MM\" > KH".into(),
                    count: Some(6),
                }],
            }],
        };
        assert_eq!(
            figures.to_csv()?,
            "table,unit,field,value,count\n\
             cases_by_route,cases,route (Lintas Case.states),(total),6\n\
             cases_by_route,cases,route (Lintas Case.states),\"ID > TH, \"\"MM\"\" > KH\",6\n"
        );
        Ok(())
    }
}
