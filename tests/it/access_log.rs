//! The access log (docs/PROTOCOL.md section 14.8): a case system's reads of
//! personal data name an officer, the node records each before answering,
//! and a data-protection officer lists them.

use lintas_core::pb;
use lintas_core::time::Timestamp;
use lintas_core::vocab::NoticeKind;
use lintas_testkit::devnet::{DevNet, TEST_OFFICER, case_system_name};
use lintas_testkit::scenario;
use lintas_testkit::world::{IDN_KEMLU, KHM_POLICE};
use tokio_stream::StreamExt;

use crate::nodes::{eventually, reason, stages, submit_as};

/// (number, officer, call, case system, notice ids) of an access record.
type Row<'a> = (u64, &'a str, &'a str, &'a str, Vec<Vec<u8>>);

fn field(status: &tonic::Status) -> String {
    status
        .metadata()
        .get("lintas-field")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_of_personal_data_name_an_officer_and_are_logged_for_the_dpo() {
    let dir = tempfile::tempdir().unwrap();
    let net = DevNet::start(&[IDN_KEMLU, KHM_POLICE], dir.path())
        .await
        .unwrap();
    let now = Timestamp::now();
    // One notice with personal data, one without, both to Cambodia.
    let rescue = submit_as(&net, IDN_KEMLU, &scenario::rescue_request(now)).await;
    let mut alert = scenario::one_of_each_kind(now)
        .into_iter()
        .find(|b| b.kind() == NoticeKind::CompoundAlert)
        .unwrap();
    alert.sender = lintas_core::ids::AgencyId::parse(IDN_KEMLU).unwrap();
    alert.recipients = vec![lintas_core::ids::AgencyId::parse(KHM_POLICE).unwrap()];
    assert!(!alert.content.carries_personal_data());
    let compound = submit_as(&net, IDN_KEMLU, &alert).await;
    for id in [rescue, compound] {
        eventually("Cambodia accepted", || async {
            !stages(&net, IDN_KEMLU, id).await.is_empty()
        })
        .await;
    }

    // Without an officer, or with a malformed one, nothing is read.
    let channel = net
        .channel(&case_system_name("athp.moi.lintas.test"), KHM_POLICE)
        .await
        .unwrap();
    let mut anonymous = lintas_grpc::pb::agency_api_client::AgencyApiClient::new(channel.clone());
    let refused = anonymous
        .subscribe_inbox(pb::SubscribeInboxRequest { after_cursor: 0 })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert_eq!(reason(&refused), "invalid_argument");
    assert_eq!(field(&refused), "lintas-officer");
    let mut request = tonic::Request::new(pb::GetCaseTimelineRequest {
        case_id: scenario::CASE_ID.into(),
        ..Default::default()
    });
    request
        .metadata_mut()
        .insert("lintas-officer", "two words".parse().unwrap());
    let refused = anonymous.get_case_timeline(request).await.unwrap_err();
    assert_eq!(field(&refused), "lintas-officer");

    // The development case system reads as TEST_OFFICER; another officer
    // reads the timeline.
    let mut cambodia = net.case_system(KHM_POLICE).await.unwrap();
    let mut inbox = cambodia
        .subscribe_inbox(pb::SubscribeInboxRequest { after_cursor: 0 })
        .await
        .unwrap()
        .into_inner();
    for _ in 0..2 {
        inbox.next().await.unwrap().unwrap();
    }
    let mut budi =
        lintas_grpc::agency_client(channel, lintas_grpc::Officer::new("budi.s@athp").unwrap());
    let timeline = budi
        .get_case_timeline(pb::GetCaseTimelineRequest {
            case_id: scenario::CASE_ID.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(timeline.entries.len(), 1);

    let records = cambodia
        .list_access_log(pb::ListAccessLogRequest::default())
        .await
        .unwrap()
        .into_inner()
        .records;
    let me = case_system_name("athp.moi.lintas.test");
    let summary: Vec<Row<'_>> = records
        .iter()
        .map(|r| {
            (
                r.number,
                r.officer.as_str(),
                r.call.as_str(),
                r.case_system.as_str(),
                r.notice_ids.clone(),
            )
        })
        .collect();
    // The compound alert carries no personal data: its read is not logged.
    assert_eq!(
        summary,
        vec![
            (
                1,
                TEST_OFFICER,
                "SubscribeInbox",
                me.as_str(),
                vec![rescue.as_bytes().to_vec()]
            ),
            (
                2,
                "budi.s@athp",
                "GetCaseTimeline",
                me.as_str(),
                vec![rescue.as_bytes().to_vec()]
            ),
        ]
    );
    assert_eq!(records[1].case_id, scenario::CASE_ID);
    assert!(records.iter().all(|r| r.at.is_some()));
    // Paged by number.
    let rest = cambodia
        .list_access_log(pb::ListAccessLogRequest {
            after: 1,
            page_size: 10,
        })
        .await
        .unwrap()
        .into_inner()
        .records;
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].number, 2);
    net.shutdown().await;
}
