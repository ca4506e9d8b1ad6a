//! Attachments between agency nodes over mutual TLS (docs/PROTOCOL.md
//! section 13): a case system uploads a file, a notice names it, the
//! recipient's node fetches and verifies it, its case system gets it; a
//! stranger to the notice is refused.

use lintas_core::ids::{AgencyId, NoticeId};
use lintas_core::notice::{AttachmentRef, Handling, NoticeBody, NoticeContent, Withdrawal};
use lintas_core::pb;
use lintas_core::retention::DEFAULT_RETENTION_DAYS;
use lintas_core::text::Text;
use lintas_core::time::Timestamp;
use lintas_core::vocab::{Priority, Tlp};
use lintas_testkit::devnet::DevNet;
use lintas_testkit::scenario;
use lintas_testkit::world::{IDN_KEMLU, KHM_POLICE, THA_POLICE};
use sha2::{Digest, Sha256};
use tokio_stream::StreamExt;

use crate::nodes::{draft, eventually, reason, submit_as};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_uploaded_in_indonesia_reaches_cambodias_case_system_verified() {
    let dir = tempfile::tempdir().unwrap();
    let net = DevNet::start(&[IDN_KEMLU, KHM_POLICE, THA_POLICE], dir.path())
        .await
        .unwrap();
    let mut rng = fastrand::Rng::with_seed(5);
    let file: Vec<u8> = (0..8 * 1024 * 1024 + 123).map(|_| rng.u8(..)).collect();
    let mut indonesia = net.case_system(IDN_KEMLU).await.unwrap();
    let pieces: Vec<pb::AttachmentUpload> = file
        .chunks(300 * 1024)
        .enumerate()
        .map(|(i, data)| pb::AttachmentUpload {
            data: data.to_vec(),
            media_type: if i == 0 {
                "image/png".into()
            } else {
                String::new()
            },
        })
        .collect();
    let uploaded = indonesia
        .upload_attachment(tokio_stream::iter(pieces))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(uploaded.sha256, Sha256::digest(&file).to_vec());
    assert_eq!(uploaded.size, file.len() as u64);

    let mut body = scenario::rescue_request(Timestamp::now());
    body.recipients = vec![AgencyId::parse(KHM_POLICE).unwrap()];
    body.attachments.push(AttachmentRef::new(
        uploaded.sha256.as_slice().try_into().unwrap(),
        "image/png",
        uploaded.size,
        body.created_at,
        AgencyId::parse(IDN_KEMLU).unwrap(),
    ));
    let submitted = indonesia
        .submit_notice(pb::SubmitNoticeRequest {
            draft: Some(draft(&body)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let id = NoticeId::from_bytes(submitted.notice_id.as_slice().try_into().unwrap());

    // Cambodia's case system gets the file once its node has verified it.
    let mut cambodia = net.case_system(KHM_POLICE).await.unwrap();
    let request = pb::GetAttachmentRequest {
        sha256: uploaded.sha256.clone(),
    };
    eventually("Cambodia's node holds the verified file", || {
        let mut c = cambodia.clone();
        let r = request.clone();
        async move { c.get_attachment(r).await.is_ok() }
    })
    .await;
    let mut stream = cambodia.get_attachment(request).await.unwrap().into_inner();
    let mut got = Vec::new();
    while let Some(piece) = stream.next().await {
        got.extend_from_slice(&piece.unwrap().data);
    }
    assert_eq!(got, file);

    // Thailand, not a party to the notice, cannot fetch it; a request off
    // a piece boundary is refused.
    let mut thailand = net.peer(THA_POLICE, IDN_KEMLU).await.unwrap();
    let refused = thailand
        .fetch_attachment(pb::FetchAttachmentRequest {
            notice_id: id.as_bytes().to_vec(),
            sha256: uploaded.sha256.clone(),
            offset: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&refused), "not_entitled");
    let mut to_indonesia = net.peer(KHM_POLICE, IDN_KEMLU).await.unwrap();
    let refused = to_indonesia
        .fetch_attachment(pb::FetchAttachmentRequest {
            notice_id: id.as_bytes().to_vec(),
            sha256: uploaded.sha256.clone(),
            offset: 7,
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&refused), "invalid_argument");
    net.shutdown().await;
}

/// Uploads `file` at `at`'s node; its digest.
async fn upload(net: &DevNet, at: &str, file: &[u8]) -> [u8; 32] {
    let uploaded = net
        .case_system(at)
        .await
        .unwrap()
        .upload_attachment(tokio_stream::iter(vec![pb::AttachmentUpload {
            data: file.to_vec(),
            media_type: "image/jpeg".into(),
        }]))
        .await
        .unwrap()
        .into_inner();
    uploaded.sha256.as_slice().try_into().unwrap()
}

/// `body` from Indonesia to Cambodia naming the file `sha256`.
fn naming(mut body: NoticeBody, sha256: [u8; 32], size: usize) -> NoticeBody {
    body.recipients = vec![AgencyId::parse(KHM_POLICE).unwrap()];
    body.attachments.push(AttachmentRef::new(
        sha256,
        "image/jpeg",
        size as u64,
        body.created_at,
        AgencyId::parse(IDN_KEMLU).unwrap(),
    ));
    body
}

/// A file of `len` bytes that repeats `marker`.
fn scan(marker: &str, len: usize) -> Vec<u8> {
    marker.bytes().cycle().take(len).collect()
}

fn store_holds(net: &DevNet, at: &str, marker: &str) -> bool {
    let bytes = std::fs::read(net.store_path(&AgencyId::parse(at).unwrap())).unwrap();
    bytes.windows(marker.len()).any(|w| w == marker.as_bytes())
}

/// Docs/PROTOCOL.md sections 14.6 and 14.7: a notice's files go with its
/// personal data, at every holder, unless another notice held there still
/// names them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_go_with_a_purged_or_withdrawn_notice_unless_another_names_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = DevNet::start(&[IDN_KEMLU, KHM_POLICE], dir.path())
        .await
        .unwrap();
    const PASSPORT: &str = "PASSPORT-SCAN-OF-V001;";
    const SHARED: &str = "COMPOUND-GATE-PHOTO;";
    const WITHDRAWN: &str = "WRONG-PERSON-PHOTO;";
    let files = [
        scan(PASSPORT, 40_000),
        scan(SHARED, 40_000),
        scan(WITHDRAWN, 40_000),
    ];
    let mut digests = Vec::new();
    for f in &files {
        digests.push(upload(&net, IDN_KEMLU, f).await);
    }
    let now = Timestamp::now();
    // A rescue request (personal data) names the passport scan and the
    // gate photo; a modus-operandi alert (none) names the gate photo too.
    let rescue = naming(scenario::rescue_request(now), digests[0], files[0].len());
    let rescue = naming(rescue, digests[1], files[1].len());
    let alert = scenario::one_of_each_kind(now)
        .into_iter()
        .find(|b| b.kind() == lintas_core::vocab::NoticeKind::ModusOperandiAlert)
        .unwrap();
    let mut alert = naming(alert, digests[1], files[1].len());
    alert.sender = AgencyId::parse(IDN_KEMLU).unwrap();
    let mut wrong = naming(scenario::rescue_request(now), digests[2], files[2].len());
    wrong.sequence = 7;
    let rescue_id = submit_as(&net, IDN_KEMLU, &rescue).await;
    submit_as(&net, IDN_KEMLU, &alert).await;
    let wrong_id = submit_as(&net, IDN_KEMLU, &wrong).await;
    let held = |sha: [u8; 32]| {
        let net = &net;
        async move {
            net.case_system(KHM_POLICE)
                .await
                .unwrap()
                .get_attachment(pb::GetAttachmentRequest {
                    sha256: sha.to_vec(),
                })
                .await
                .is_ok()
        }
    };
    for sha in &digests {
        eventually("Cambodia holds every file", || held(*sha)).await;
    }

    // Indonesia withdraws the wrong notice: Cambodia erases it and its
    // file.
    let mut withdrawal = NoticeBody::new(
        AgencyId::parse(IDN_KEMLU).unwrap(),
        8,
        Timestamp::now(),
        Timestamp::now().plus_seconds(30 * 86_400),
        vec![AgencyId::parse(KHM_POLICE).unwrap()],
        Handling::new(Tlp::Amber, Priority::High),
        NoticeContent::Withdrawal(Withdrawal::new(
            wrong_id,
            Text::en("Sent about the wrong person: erase it."),
        )),
    );
    withdrawal.case_id = wrong.case_id.clone();
    submit_as(&net, IDN_KEMLU, &withdrawal).await;
    eventually("Cambodia removed the withdrawn notice's file", || async {
        !held(digests[2]).await
    })
    .await;
    assert!(held(digests[0]).await && held(digests[1]).await);

    // The rescue request's period runs out: the passport scan goes at
    // both nodes, the gate photo stays (the alert still names it).
    let later = now.plus_seconds(i64::from(DEFAULT_RETENTION_DAYS) * 86_400 + 60);
    // (Indonesia, the sender, kept its own copy of the withdrawn notice
    // until now: it goes too, with its file.)
    for (at, files_removed) in [(IDN_KEMLU, 2), (KHM_POLICE, 1)] {
        let report = net.node(at).engine().purge_due(later).await.unwrap();
        assert!(report.purged.contains(&rescue_id), "{at}: {report:?}");
        assert_eq!(report.files_removed, files_removed, "{at}: {report:?}");
        let engine = net.node(at).engine();
        assert!(engine.store().attachment(&digests[0]).unwrap().is_none());
        assert!(engine.store().attachment(&digests[1]).unwrap().is_some());
    }
    assert!(!held(digests[0]).await && held(digests[1]).await);
    for at in [IDN_KEMLU, KHM_POLICE] {
        net.stop(at).await.unwrap();
        assert!(!store_holds(&net, at, PASSPORT), "{at}");
        assert!(store_holds(&net, at, SHARED), "{at}");
    }
    assert!(!store_holds(&net, KHM_POLICE, WITHDRAWN));
    assert!(!store_holds(&net, IDN_KEMLU, WITHDRAWN));
    net.shutdown().await;
}
