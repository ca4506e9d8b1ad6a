//! Multi-node tests: agency nodes on loopback with mutual TLS exchanging
//! notices, receipts and acknowledgements, and refusing what they must.

use std::time::Duration;

use lintas_core::ids::NoticeId;
use lintas_core::pb;
use lintas_core::receipt::SignedReceipt;
use lintas_core::signing::SignedNotice;
use lintas_core::vocab::ReceiptStage;
use lintas_testkit::devnet::DevNet;
use lintas_testkit::scenario;
use lintas_testkit::world::{IDN_KEMLU, KHM_POLICE, THA_POLICE};
use tokio_stream::StreamExt;

/// Polls `check` until it holds, for at most ten seconds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}

fn draft(body: &lintas_core::notice::NoticeBody) -> pb::NoticeBody {
    let mut wire = body.to_wire();
    wire.sender.clear();
    wire.sequence = 0;
    wire
}

async fn stages(net: &DevNet, at: &str, id: NoticeId) -> Vec<(u8, String)> {
    net.node(at)
        .receipts(id)
        .await
        .unwrap()
        .into_iter()
        .map(|(stage, receiver, _)| (stage, receiver))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rescue_request_reaches_its_recipients_with_receipts() {
    let dir = tempfile::tempdir().unwrap();
    let net = DevNet::start(&[IDN_KEMLU, THA_POLICE, KHM_POLICE], dir.path())
        .await
        .unwrap();

    // Indonesia's case system submits the rescue request to its node.
    let mut indonesia = net.case_system(IDN_KEMLU).await.unwrap();
    let request = scenario::rescue_request(lintas_core::time::Timestamp::now());
    let submitted = indonesia
        .submit_notice(pb::SubmitNoticeRequest {
            draft: Some(draft(&request)),
        })
        .await
        .unwrap()
        .into_inner();
    let id = NoticeId::from_bytes(submitted.notice_id.as_slice().try_into().unwrap());
    assert_eq!(submitted.sequence, 1);

    // Cambodia's case system sees it in its inbox.
    let mut cambodia = net.case_system(KHM_POLICE).await.unwrap();
    let mut inbox = cambodia
        .subscribe_inbox(pb::SubscribeInboxRequest { after_cursor: 0 })
        .await
        .unwrap()
        .into_inner();
    let item = tokio::time::timeout(Duration::from_secs(10), inbox.next())
        .await
        .expect("inbox item in time")
        .unwrap()
        .unwrap();
    assert_eq!(item.cursor, 1);
    assert_eq!(item.notice_id, id.as_bytes().to_vec());
    let envelope = SignedNotice::try_from(item.notice.unwrap()).unwrap();
    let verified = net
        .roster
        .verify_notice(&envelope, lintas_core::time::Timestamp::now())
        .unwrap();
    assert_eq!(
        verified.body.content, request.content,
        "the case system gets exactly what was sent"
    );

    // Indonesia holds verified ACCEPTED receipts from both recipients.
    eventually("accepted receipts from both recipients", || async {
        stages(&net, IDN_KEMLU, id).await.len() == 2
    })
    .await;
    for (_, _, bytes) in net.node(IDN_KEMLU).receipts(id).await.unwrap() {
        let receipt = net
            .roster
            .verify_receipt(
                &SignedReceipt::decode(&bytes).unwrap(),
                lintas_core::time::Timestamp::now(),
            )
            .unwrap();
        assert_eq!(receipt.stage, ReceiptStage::Accepted);
        assert_eq!(receipt.notice_id, id);
    }

    // Cambodia reads it and acts on it; Indonesia gets both receipts.
    for stage in [ReceiptStage::Read, ReceiptStage::Actioned] {
        cambodia
            .acknowledge(pb::AcknowledgeRequest {
                notice_id: id.as_bytes().to_vec(),
                stage: stage.to_wire(),
                note: "team dispatched".into(),
            })
            .await
            .unwrap();
    }
    eventually("read and actioned receipts from Cambodia", || async {
        let got = stages(&net, IDN_KEMLU, id).await;
        got.contains(&(ReceiptStage::Read.to_wire() as u8, KHM_POLICE.to_string()))
            && got.contains(&(
                ReceiptStage::Actioned.to_wire() as u8,
                KHM_POLICE.to_string(),
            ))
    })
    .await;

    // The case timeline at Indonesia lists the notice with its receipts.
    let timeline = indonesia
        .get_case_timeline(pb::GetCaseTimelineRequest {
            case_id: scenario::CASE_ID.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(timeline.entries.len(), 1);
    assert_eq!(timeline.entries[0].receipts.len(), 4);
    net.shutdown().await;
}
