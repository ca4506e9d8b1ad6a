//! Witnessing between agency nodes over mutual TLS: the PeerExchange calls
//! of docs/PROTOCOL.md sections 10.5, 10.7 and 10.8, the alarm an operator
//! sees (agency API and metric), and the refusals.

use lintas_core::ids::{AgencyId, NoticeId};
use lintas_core::pb;
use lintas_core::time::Timestamp;
use lintas_core::transparency::checkpoint::{Checkpoint, SignedCheckpoint};
use lintas_core::transparency::entry::{LogEntry, LogEntryKind};
use lintas_core::transparency::merkle::{self, MemoryTree};
use lintas_core::transparency::proofs::{ForkEvidence, ForkFinding, InclusionProof};
use lintas_core::vocab::ReceiptStage;
use lintas_testkit::devnet::DevNet;
use lintas_testkit::scenario;
use lintas_testkit::world::{self, IDN_KEMLU, KHM_POLICE, THA_POLICE};

use crate::nodes::{draft, eventually, reason, scrape, stages};

fn forged_checkpoint(size: u64) -> SignedCheckpoint {
    let mut tree = MemoryTree::new();
    for i in 0..size {
        tree.push(format!("another history {i}").as_bytes());
    }
    SignedCheckpoint::sign(
        &Checkpoint {
            origin: AgencyId::parse(IDN_KEMLU).unwrap(),
            size,
            root: merkle::root(&tree, size).unwrap(),
            at: Timestamp::now(),
        },
        &world::agency_key(IDN_KEMLU),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_witness_each_other_prove_receipts_and_raise_the_alarm_on_a_fork() {
    let dir = tempfile::tempdir().unwrap();
    let net = DevNet::start(&[IDN_KEMLU, THA_POLICE, KHM_POLICE], dir.path())
        .await
        .unwrap();
    let mut indonesia = net.case_system(IDN_KEMLU).await.unwrap();
    let submitted = indonesia
        .submit_notice(pb::SubmitNoticeRequest {
            draft: Some(draft(&scenario::rescue_request(Timestamp::now()))),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let id = NoticeId::from_bytes(submitted.notice_id.as_slice().try_into().unwrap());
    eventually("accepted receipts from both recipients", || async {
        stages(&net, IDN_KEMLU, id).await.len() == 2
    })
    .await;

    // Every node offers its checkpoint; the two others cosign it (the
    // roster's other agencies run no node here: counted as failed).
    for agency in [IDN_KEMLU, THA_POLICE, KHM_POLICE] {
        let round = net.node(agency).witness_now().await;
        assert_eq!(round.cosigned_by.len(), 2, "{agency}: {round:?}");
        for running in [IDN_KEMLU, THA_POLICE, KHM_POLICE] {
            assert!(
                !round.failed.iter().any(|a| a.as_str() == running),
                "{round:?}"
            );
        }
    }

    // Indonesia completes Cambodia's ACCEPTED receipt with an inclusion
    // proof from Cambodia's log, cosigned by Indonesia and Thailand.
    let receipts = net.node(IDN_KEMLU).receipts(id).await.unwrap();
    let (_, _, bytes) = receipts
        .iter()
        .find(|(stage, receiver, _)| {
            i32::from(*stage) == ReceiptStage::Accepted.to_wire() && receiver == KHM_POLICE
        })
        .unwrap();
    let entry = LogEntry::of(LogEntryKind::Receipt, id, bytes).encode();
    let mut to_cambodia = net.peer(IDN_KEMLU, KHM_POLICE).await.unwrap();
    let proof = to_cambodia
        .prove_log_inclusion(pb::ProveLogInclusionRequest {
            entry: entry.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let proof = InclusionProof::try_from(proof).unwrap();
    let khm = AgencyId::parse(KHM_POLICE).unwrap();
    let (_, witnesses) = proof
        .verify(&khm, &entry, &net.roster, Timestamp::now())
        .unwrap();
    assert_eq!(witnesses.len(), 2);
    let refused = to_cambodia
        .prove_log_inclusion(pb::ProveLogInclusionRequest {
            entry: b"not an entry".to_vec(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert_eq!(reason(&refused), "invalid_argument");
    let refused = to_cambodia
        .prove_log_consistency(pb::ProveLogConsistencyRequest {
            old_size: 1,
            new_size: 1_000_000,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);

    // Indonesia's node offers Cambodia a checkpoint of another history:
    // refused, and Cambodia's operator sees the alarm with its evidence.
    let size = net.node(IDN_KEMLU).engine().store().log_size().unwrap();
    let fork = forged_checkpoint(size);
    let refused = to_cambodia
        .witness_checkpoint(pb::WitnessCheckpointRequest {
            checkpoint: Some(fork.clone().into()),
            old_size: size,
            consistency_proof: Vec::new(),
            gossip: Vec::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    assert_eq!(reason(&refused), "log_inconsistent");
    let mut cambodia = net.case_system(KHM_POLICE).await.unwrap();
    let alarms = cambodia
        .list_log_alarms(pb::ListLogAlarmsRequest {})
        .await
        .unwrap()
        .into_inner()
        .alarms;
    assert_eq!(alarms.len(), 1);
    let evidence = ForkEvidence::try_from(alarms[0].clone()).unwrap();
    assert_eq!(evidence.later, fork);
    assert_eq!(
        evidence.verify(&net.roster, Timestamp::now()).unwrap(),
        ForkFinding::TwoRootsForOneSize
    );
    let metrics = scrape(net.metrics_addr(KHM_POLICE).unwrap()).await;
    assert!(metrics.contains("lintas_log_alarms_total 1"), "{metrics}");

    // Thailand cannot offer Indonesia's checkpoint as if it were its own.
    let mut thailand_to_cambodia = net.peer(THA_POLICE, KHM_POLICE).await.unwrap();
    let refused = thailand_to_cambodia
        .witness_checkpoint(pb::WitnessCheckpointRequest {
            checkpoint: Some(fork.into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    assert_eq!(reason(&refused), "not_log_origin");
    let refused = thailand_to_cambodia
        .witness_checkpoint(pb::WitnessCheckpointRequest::default())
        .await
        .unwrap_err();
    assert_eq!(reason(&refused), "invalid_argument");
    net.shutdown().await;
}
