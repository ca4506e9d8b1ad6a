//! Attachments between agency nodes over mutual TLS (docs/PROTOCOL.md
//! section 13): a case system uploads a file, a notice names it, the
//! recipient's node fetches and verifies it, its case system gets it; a
//! stranger to the notice is refused.

use lintas_core::ids::{AgencyId, NoticeId};
use lintas_core::notice::AttachmentRef;
use lintas_core::pb;
use lintas_core::time::Timestamp;
use lintas_testkit::devnet::DevNet;
use lintas_testkit::scenario;
use lintas_testkit::world::{IDN_KEMLU, KHM_POLICE, THA_POLICE};
use sha2::{Digest, Sha256};
use tokio_stream::StreamExt;

use crate::nodes::{draft, eventually, reason};

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
