//! Witnessing on an in-memory network (docs/PROTOCOL.md sections 10.5,
//! 10.7, 10.8): nodes cosign each other's checkpoints as their logs grow,
//! a receipt is completed with an inclusion proof against a cosigned
//! checkpoint, and a node that shows two partners two histories is caught.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use lintas_core::ids::AgencyId;
use lintas_core::time::Timestamp;
use lintas_core::transparency::checkpoint::{Checkpoint, SignedCheckpoint};
use lintas_core::transparency::entry::{LogEntry, LogEntryKind};
use lintas_core::transparency::merkle::{self, MemoryTree};
use lintas_core::transparency::proofs::ForkFinding;
use lintas_core::vocab::ReceiptStage;
use lintas_node::{
    DeliveryConfig, Engine, MemoryNetwork, Transport, WitnessAnswer, WitnessRequest,
};
use lintas_store::Store;
use lintas_testkit::{scenario, world};
use world::{IDN_KEMLU, KHM_POLICE, THA_POLICE};

fn agency(id: &str) -> AgencyId {
    AgencyId::parse(id).unwrap()
}

fn open(dir: &Path, id: &str) -> Engine {
    let store = Arc::new(Store::open(&dir.join(format!("{id}.redb"))).unwrap());
    Engine::open(
        agency(id),
        world::agency_key(id),
        world::trusted_roster(),
        store,
        DeliveryConfig::default(),
    )
    .unwrap()
}

/// Indonesia, Cambodia and Thailand on one in-memory network.
fn three(dir: &Path) -> (Arc<MemoryNetwork>, [Engine; 3]) {
    let network = MemoryNetwork::new();
    let engines = [IDN_KEMLU, KHM_POLICE, THA_POLICE].map(|a| open(dir, a));
    for e in &engines {
        network.attach(e);
    }
    (network, engines)
}

/// Indonesia asks Cambodia for a rescue and delivers it: entries in both
/// logs. Returns the notice id.
async fn exchange(network: &Arc<MemoryNetwork>, idn: &Engine) -> lintas_core::ids::NoticeId {
    let sent = idn
        .submit(scenario::rescue_request(Timestamp::now()), Timestamp::now())
        .await
        .unwrap();
    let transport = network.transport(idn.agency());
    for _ in 0..200 {
        if idn.outbox_len() == 0 {
            break;
        }
        let stop = tokio_util::sync::CancellationToken::new();
        let run = tokio::spawn({
            let (idn, stop) = (idn.clone(), stop.clone());
            let transport = Arc::new(transport.clone());
            async move { idn.run_delivery(transport, stop).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        stop.cancel();
        run.await.unwrap();
    }
    assert_eq!(idn.outbox_len(), 0, "delivered");
    sent.id
}

fn signed_checkpoint_of(origin: &str, tree: &MemoryTree, size: u64) -> SignedCheckpoint {
    let checkpoint = Checkpoint {
        origin: agency(origin),
        size,
        root: merkle::root(tree, size).unwrap(),
        at: Timestamp::now(),
    };
    SignedCheckpoint::sign(&checkpoint, &world::agency_key(origin))
}

/// Another history of `size` entries, signed with `origin`'s real key: what
/// a node showing a partner a different log would sign.
fn forged(origin: &str, size: u64) -> (MemoryTree, SignedCheckpoint) {
    let mut tree = MemoryTree::new();
    for i in 0..size {
        tree.push(format!("another history {i}").as_bytes());
    }
    let signed = signed_checkpoint_of(origin, &tree, size);
    (tree, signed)
}

/// `from`'s node offers `checkpoint` to `witness` directly, with no gossip.
async fn offer(
    witness: &Engine,
    from: &AgencyId,
    checkpoint: SignedCheckpoint,
    old_size: u64,
    proof: Vec<merkle::Hash>,
) -> Result<WitnessAnswer, lintas_node::Refusal> {
    witness
        .witness(
            from,
            WitnessRequest {
                checkpoint,
                old_size,
                proof,
                gossip: Vec::new(),
            },
            Timestamp::now(),
        )
        .await
}

fn alarms_metric(engine: &Engine) -> String {
    engine
        .metrics()
        .render()
        .lines()
        .find(|l| l.starts_with("lintas_log_alarms_total"))
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_cosign_each_others_growing_logs_and_a_receipt_is_completed_with_an_inclusion_proof()
{
    let dir = tempfile::tempdir().unwrap();
    let (network, [idn, khm, tha]) = three(dir.path());
    let id = exchange(&network, &idn).await;

    for e in [&idn, &khm, &tha] {
        let round = e
            .witness_round(&network.transport(e.agency()), Timestamp::now())
            .await;
        assert_eq!(round.alarms, 0);
        for other in [&idn, &khm, &tha] {
            if other.agency() != e.agency() {
                assert!(
                    round.cosigned_by.contains(other.agency()),
                    "{} cosigned {}'s checkpoint: {round:?}",
                    other.agency(),
                    e.agency()
                );
            }
        }
    }
    let roster = world::trusted_roster();
    let (size, cosigned) = idn.cosigned_checkpoint().unwrap().unwrap();
    let (checkpoint, witnesses) = cosigned.verify(&roster, Timestamp::now()).unwrap();
    assert_eq!(checkpoint.size, size);
    assert!(size >= 2, "the notice sent and its receipt are logged");
    assert_eq!(witnesses.len(), 2, "{witnesses:?}");

    // The logs grow; the next round is checked against the last and
    // cosigned again.
    exchange(&network, &idn).await;
    let round = idn
        .witness_round(&network.transport(idn.agency()), Timestamp::now())
        .await;
    assert!(round.size > size);
    assert_eq!(round.cosigned_by.len(), 2, "{round:?}");
    assert_eq!(idn.cosigned_checkpoint().unwrap().unwrap().0, round.size);

    // Indonesia holds Cambodia's ACCEPTED receipt; Cambodia's log has the
    // same receipt as an entry, and proves it against a checkpoint
    // Cambodia signed and its witnesses cosigned.
    khm.witness_round(&network.transport(khm.agency()), Timestamp::now())
        .await;
    let receipts = idn.receipts(&id).unwrap();
    let (_, receiver, bytes) = receipts
        .iter()
        .find(|(stage, _, _)| i32::from(*stage) == ReceiptStage::Accepted.to_wire())
        .expect("the ACCEPTED receipt");
    assert_eq!(receiver, KHM_POLICE);
    let entry = LogEntry::of(LogEntryKind::Receipt, id, bytes).encode();
    let proof = network
        .transport(idn.agency())
        .prove_inclusion(khm.agency(), entry.clone())
        .await
        .unwrap()
        .unwrap();
    let (checkpoint, witnesses) = proof
        .verify(khm.agency(), &entry, &roster, Timestamp::now())
        .unwrap();
    assert_eq!(checkpoint.origin, agency(KHM_POLICE));
    assert_eq!(witnesses.len(), 2, "Indonesia and Thailand cosigned it");
    // The proof does not stretch to another entry, nor to another log.
    let other = LogEntry::of(LogEntryKind::Receipt, id, b"other bytes").encode();
    assert!(
        proof
            .verify(khm.agency(), &other, &roster, Timestamp::now())
            .is_err()
    );
    assert!(
        proof
            .verify(idn.agency(), &entry, &roster, Timestamp::now())
            .is_err()
    );
    // An entry not in the log is not found.
    let absent = network
        .transport(idn.agency())
        .prove_inclusion(khm.agency(), other)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(absent.reason, "not_found");
    assert_eq!(alarms_metric(&khm), "lintas_log_alarms_total 0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_that_does_not_extend_what_a_witness_cosigned_is_refused_and_kept_as_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let (network, [idn, khm, _tha]) = three(dir.path());
    exchange(&network, &idn).await;
    idn.witness_round(&network.transport(idn.agency()), Timestamp::now())
        .await;
    let seen = idn.store().log_size().unwrap();

    // Indonesia's node now offers Cambodia a checkpoint of a history that
    // does not start with the one Cambodia cosigned.
    let (tree, fork) = forged(IDN_KEMLU, seen + 3);
    let proof = merkle::consistency_proof(&tree, seen, seen + 3).unwrap();
    let refused = khm
        .witness(
            idn.agency(),
            WitnessRequest {
                checkpoint: fork.clone(),
                old_size: seen,
                proof,
                gossip: Vec::new(),
            },
            Timestamp::now(),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.reason(), "log_inconsistent");
    let alarms = khm.log_alarms().unwrap();
    assert_eq!(alarms.len(), 1);
    assert_eq!(alarms[0].origin, agency(IDN_KEMLU));
    assert_eq!(alarms[0].later, fork);
    assert_eq!(
        alarms[0]
            .verify(&world::trusted_roster(), Timestamp::now())
            .unwrap(),
        ForkFinding::ProofFails
    );
    assert_eq!(alarms_metric(&khm), "lintas_log_alarms_total 1");

    // A smaller log than the one cosigned: shrunk.
    let (_, small) = forged(IDN_KEMLU, 1);
    let refused = offer(&khm, idn.agency(), small, seen, Vec::new())
        .await
        .unwrap_err();
    assert_eq!(refused.reason(), "log_inconsistent");
    assert_eq!(
        khm.log_alarms().unwrap()[1]
            .verify(&world::trusted_roster(), Timestamp::now())
            .unwrap(),
        ForkFinding::Shrunk
    );

    // Nobody offers another agency's checkpoint for witnessing.
    let refused = offer(&khm, &agency(THA_POLICE), fork, 0, Vec::new())
        .await
        .unwrap_err();
    assert_eq!(refused.reason(), "not_log_origin");

    // An offer from a size the witness did not cosign is answered with the
    // size it did; the honest log then proves from it and is cosigned.
    let honest = idn.sign_checkpoint(Timestamp::now()).unwrap();
    let answer = offer(&khm, idn.agency(), honest, 0, Vec::new())
        .await
        .unwrap();
    assert!(matches!(answer, WitnessAnswer::KnownSize(s) if s == seen));
    let round = idn
        .witness_round(&network.transport(idn.agency()), Timestamp::now())
        .await;
    assert!(round.cosigned_by.contains(khm.agency()), "{round:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_showing_two_partners_two_histories_is_caught_by_a_witness() {
    let dir = tempfile::tempdir().unwrap();
    let (network, [idn, khm, tha]) = three(dir.path());
    exchange(&network, &idn).await;
    let size = idn.store().log_size().unwrap();

    // Indonesia's node shows Cambodia its real log, and Thailand another
    // history of the same size; each alone sees a consistent log.
    let honest = idn.sign_checkpoint(Timestamp::now()).unwrap();
    let answer = offer(&khm, idn.agency(), honest, 0, Vec::new())
        .await
        .unwrap();
    assert!(matches!(answer, WitnessAnswer::Cosigned(_)));
    let (_, fork) = forged(IDN_KEMLU, size);
    let answer = offer(&tha, idn.agency(), fork.clone(), 0, Vec::new())
        .await
        .unwrap();
    assert!(matches!(answer, WitnessAnswer::Cosigned(_)));

    // Thailand's next round passes on what it cosigned; Cambodia compares.
    let round = tha
        .witness_round(&network.transport(tha.agency()), Timestamp::now())
        .await;
    assert!(round.cosigned_by.contains(khm.agency()), "{round:?}");
    let alarms = khm.log_alarms().unwrap();
    assert_eq!(alarms.len(), 1, "Cambodia raised the alarm");
    assert_eq!(alarms[0].shown_by, agency(THA_POLICE));
    assert_eq!(
        alarms[0]
            .verify(&world::trusted_roster(), Timestamp::now())
            .unwrap(),
        ForkFinding::TwoRootsForOneSize
    );
    assert_eq!(alarms_metric(&khm), "lintas_log_alarms_total 1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_smaller_history_passed_on_by_a_witness_is_caught_when_the_node_cannot_prove_it() {
    let dir = tempfile::tempdir().unwrap();
    let (network, [idn, khm, tha]) = three(dir.path());
    exchange(&network, &idn).await;
    exchange(&network, &idn).await;
    // Cambodia cosigns Indonesia's real log; Thailand has not seen it.
    let size = idn.store().log_size().unwrap();
    assert!(size >= 4);
    let honest = idn.sign_checkpoint(Timestamp::now()).unwrap();
    let answer = offer(&khm, idn.agency(), honest, 0, Vec::new())
        .await
        .unwrap();
    assert!(matches!(answer, WitnessAnswer::Cosigned(_)));
    // Thailand is shown a smaller, different history.
    let (_, fork) = forged(IDN_KEMLU, size - 2);
    let answer = offer(&tha, idn.agency(), fork, 0, Vec::new())
        .await
        .unwrap();
    assert!(matches!(answer, WitnessAnswer::Cosigned(_)));

    // Thailand passes it on to Cambodia, which cannot compare two sizes by
    // itself: it asks Indonesia's node for a proof in its next round.
    tha.witness_round(&network.transport(tha.agency()), Timestamp::now())
        .await;
    assert!(khm.log_alarms().unwrap().is_empty());
    let round = khm
        .witness_round(&network.transport(khm.agency()), Timestamp::now())
        .await;
    assert_eq!(round.alarms, 1, "{round:?}");
    let alarms = khm.log_alarms().unwrap();
    assert_eq!(
        alarms[0]
            .verify(&world::trusted_roster(), Timestamp::now())
            .unwrap(),
        ForkFinding::ProofFails
    );
    assert_eq!(alarms[0].shown_by, agency(THA_POLICE));
    // Asked again next round? No: the check is settled.
    let round = khm
        .witness_round(&network.transport(khm.agency()), Timestamp::now())
        .await;
    assert_eq!(round.alarms, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_forking_again_and_again_cannot_fill_its_witness_with_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let (network, [idn, khm, _tha]) = three(dir.path());
    exchange(&network, &idn).await;
    idn.witness_round(&network.transport(idn.agency()), Timestamp::now())
        .await;
    let seen = idn.store().log_size().unwrap();
    for i in 0..(lintas_node::MAX_ALARMS_PER_LOG as u64 + 10) {
        let (_, fork) = forged(IDN_KEMLU, seen + 1 + i);
        let refused = offer(&khm, idn.agency(), fork, seen, Vec::new())
            .await
            .unwrap_err();
        assert_eq!(refused.reason(), "log_inconsistent", "refused every time");
    }
    assert_eq!(
        khm.log_alarms().unwrap().len(),
        lintas_node::MAX_ALARMS_PER_LOG
    );
    assert_eq!(
        alarms_metric(&khm),
        format!(
            "lintas_log_alarms_total {}",
            lintas_node::MAX_ALARMS_PER_LOG + 10
        ),
        "every one is still counted and logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_carries_at_most_one_checkpoint_of_each_agencys_log() {
    let dir = tempfile::tempdir().unwrap();
    let (_network, [idn, khm, tha]) = three(dir.path());
    let own = idn.sign_checkpoint(Timestamp::now()).unwrap();
    let thai = tha.sign_checkpoint(Timestamp::now()).unwrap();
    let ask = |gossip: Vec<SignedCheckpoint>| {
        khm.witness(
            idn.agency(),
            WitnessRequest {
                checkpoint: own.clone(),
                old_size: 0,
                proof: Vec::new(),
                gossip,
            },
            Timestamp::now(),
        )
    };
    // Two of Thailand's log: refused, whatever the roster's size.
    let refused = ask(vec![thai.clone(), thai.clone()]).await.unwrap_err();
    assert_eq!(refused.reason(), "invalid_argument");
    assert!(
        refused.to_string().contains("two checkpoints of THA"),
        "{refused}"
    );
    // One of each: taken, and the offered checkpoint cosigned.
    let answer = ask(vec![thai]).await.unwrap();
    assert!(matches!(answer, WitnessAnswer::Cosigned(_)), "{answer:?}");
}
