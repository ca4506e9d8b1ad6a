//! A connection to the database with the statements prepared on it: each
//! statement is parsed and planned once per connection, not once per call
//! (a prepare costs a round trip of its own).

use std::collections::BTreeMap;
use std::sync::Mutex;

use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Error, Row, Statement, Transaction};

use super::block;

/// The statements prepared on one connection, by their text.
#[derive(Default)]
pub(crate) struct Prepared(Mutex<BTreeMap<&'static str, Statement>>);

impl Prepared {
    fn get(&self, sql: &'static str) -> Option<Statement> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(sql)
            .cloned()
    }

    fn keep(&self, sql: &'static str, statement: &Statement) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(sql, statement.clone());
    }

    /// `sql` prepared in `txn` (on the connection the cache belongs to).
    pub(crate) fn in_transaction(
        &self,
        txn: &Transaction<'_>,
        sql: &'static str,
    ) -> Result<Statement, Error> {
        if let Some(statement) = self.get(sql) {
            return Ok(statement);
        }
        let statement = block(txn.prepare(sql))?;
        self.keep(sql, &statement);
        Ok(statement)
    }
}

/// An open connection and its prepared statements.
pub(crate) struct Connection {
    pub(crate) client: Client,
    pub(crate) prepared: Prepared,
}

impl Connection {
    pub(crate) fn new(client: Client) -> Self {
        Connection {
            client,
            prepared: Prepared::default(),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    async fn statement(&self, sql: &'static str) -> Result<Statement, Error> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement);
        }
        let statement = self.client.prepare(sql).await?;
        self.prepared.keep(sql, &statement);
        Ok(statement)
    }

    /// The rows `sql` returns.
    pub(crate) async fn query(
        &self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        let statement = self.statement(sql).await?;
        self.client.query(&statement, params).await
    }

    /// The row `sql` returns, if any (an error if more than one).
    pub(crate) async fn query_opt(
        &self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, Error> {
        let statement = self.statement(sql).await?;
        self.client.query_opt(&statement, params).await
    }
}
