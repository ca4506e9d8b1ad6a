//! The rules that need history (PROTOCOL 5.6): notices that refer to
//! notices the harness delivered earlier in the run, built to break one
//! rule each.

use lintas_core::ids::NoticeId;
use lintas_core::notice::{NoticeBody, NoticeContent, TargetResult};
use lintas_core::signing::SignedNotice;
use lintas_grpc::pb::peer_exchange_client::PeerExchangeClient;
use tonic::Code;
use tonic::transport::Channel;

use super::expect::{Outcome, expect_refusal};
use super::{Harness, Report};
use lintas_core::pb;

/// The rules that need history (5.6), against notices the harness
/// delivered earlier in the run.
pub(crate) async fn history(
    h: &mut Harness,
    peer: &mut PeerExchangeClient<Channel>,
    report: &mut Report,
    delivered: &[(NoticeBody, NoticeId)],
) {
    let Some((earlier_body, earlier)) = delivered.first().cloned() else {
        return;
    };
    let earlier_body = &earlier_body;
    // An assistance response whose request is not an assistance request.
    let outcome = match h.notice("assistance_response") {
        Err(e) => Err(e.to_string()),
        Ok(mut body) => {
            if let NoticeContent::AssistanceResponse(r) = &mut body.content {
                r.request = earlier;
            }
            deliver_expecting(
                h,
                peer,
                &body,
                Code::InvalidArgument,
                "wrong_kind_referenced",
                Some("request"),
            )
            .await
        }
    };
    report.check(
        "5.6",
        "an answer to a notice of the wrong kind (wrong_kind_referenced)",
        outcome,
    );

    // A notice superseding the harness's own earlier one of another kind.
    let other_kind = if matches!(earlier_body.content, NoticeContent::CompoundAlert(_)) {
        "suspect_alert"
    } else {
        "compound_alert"
    };
    let outcome = match h.notice(other_kind) {
        Err(e) => Err(e.to_string()),
        Ok(mut body) => {
            body.supersedes = Some(earlier);
            deliver_expecting(
                h,
                peer,
                &body,
                Code::InvalidArgument,
                "supersedes_other_kind",
                Some("supersedes"),
            )
            .await
        }
    };
    report.check(
        "5.6",
        "superseding a notice of another kind (supersedes_other_kind)",
        outcome,
    );
}

/// The answers and reports that must match what they refer to (5.6),
/// against the action request and repatriation plan the harness
/// delivered earlier in the run.
pub(crate) async fn references(
    h: &mut Harness,
    peer: &mut PeerExchangeClient<Channel>,
    report: &mut Report,
    delivered: &[(NoticeBody, NoticeId)],
) {
    let held = |wanted: fn(&NoticeContent) -> bool| {
        delivered
            .iter()
            .find(|(body, _)| wanted(&body.content))
            .cloned()
    };

    // An answer to the harness's own request, which asked the target.
    let check = "answering a request addressed to someone else (not_asked)";
    match held(|c| matches!(c, NoticeContent::ActionRequest(_))) {
        None => report.skip(
            "5.6",
            check,
            "the target refused the harness's action request",
        ),
        Some((request_body, request_id)) => {
            let outcome = match h.notice("action_answer") {
                Err(e) => Err(e.to_string()),
                Ok(mut body) => {
                    if let (NoticeContent::ActionAnswer(a), NoticeContent::ActionRequest(r)) =
                        (&mut body.content, &request_body.content)
                    {
                        a.request = request_id;
                        let template = a.results.first().cloned();
                        if let Some(template) = template {
                            a.results = r
                                .targets
                                .iter()
                                .map(|t| {
                                    let mut result: TargetResult = template.clone();
                                    result.target_id = t.target_id.clone();
                                    result
                                })
                                .collect();
                        }
                    }
                    deliver_expecting(h, peer, &body, Code::PermissionDenied, "not_asked", None)
                        .await
                }
            };
            report.check("5.6", check, outcome);
        }
    }

    // Step reports on the harness's plan: a step it does not have, and a
    // step another agency is responsible for.
    let plan = held(|c| matches!(c, NoticeContent::RepatriationPlan(_)));
    let steps = match &plan {
        Some((body, id)) => match &body.content {
            NoticeContent::RepatriationPlan(p) => Some((*id, p.steps.clone())),
            _ => None,
        },
        None => None,
    };
    let beyond = "a step report on a step the plan does not have (not_in_referenced)";
    let others = "a step report from an agency not responsible for the step (not_responsible)";
    let Some((plan_id, steps)) = steps else {
        report.skip(
            "5.6",
            beyond,
            "the target refused the harness's repatriation plan",
        );
        report.skip(
            "5.6",
            others,
            "the target refused the harness's repatriation plan",
        );
        return;
    };
    let step_report = |h: &mut Harness, step: usize| -> Result<NoticeBody, String> {
        let mut body = h
            .notice("repatriation_step_report")
            .map_err(|e| e.to_string())?;
        if let NoticeContent::RepatriationStepReport(r) = &mut body.content {
            r.plan = plan_id;
            r.step = u32::try_from(step).map_err(|e| e.to_string())?;
            r.victims.clear();
            if let Some(s) = steps.get(step) {
                r.kind = s.kind;
            }
        }
        Ok(body)
    };
    let outcome = match step_report(h, steps.len()) {
        Err(e) => Err(e),
        Ok(body) => {
            deliver_expecting(
                h,
                peer,
                &body,
                Code::InvalidArgument,
                "not_in_referenced",
                Some("step"),
            )
            .await
        }
    };
    report.check("5.6", beyond, outcome);
    match steps.iter().position(|s| s.responsible_agency != h.me) {
        None => report.skip("5.6", others, "every step of the plan is the harness's own"),
        Some(step) => {
            let outcome = match step_report(h, step) {
                Err(e) => Err(e),
                Ok(body) => {
                    deliver_expecting(
                        h,
                        peer,
                        &body,
                        Code::PermissionDenied,
                        "not_responsible",
                        None,
                    )
                    .await
                }
            };
            report.check("5.6", others, outcome);
        }
    }
}

/// Delivers `body`, signed by the harness, expecting a refusal.
async fn deliver_expecting(
    h: &Harness,
    peer: &mut PeerExchangeClient<Channel>,
    body: &NoticeBody,
    code: Code,
    expected: &str,
    field: Option<&str>,
) -> Outcome {
    let (_, signed) = SignedNotice::sign(body, &h.key).map_err(|e| e.to_string())?;
    let answer = peer
        .deliver(pb::DeliverRequest {
            notice: Some(signed.into()),
        })
        .await;
    expect_refusal(answer, code, expected, field)
}
