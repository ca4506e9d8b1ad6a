//! Metrics in the Prometheus text format, served on a separate plain-HTTP
//! listener (`GET /metrics`) that operators keep on a management network,
//! beside the operator console when it is configured.

use std::sync::Arc;

use lintas_node::Metrics;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Serves `GET /metrics` on `listener` until `shutdown`, and the
/// operator console's routes when given.
pub(crate) async fn serve(
    metrics: Arc<Metrics>,
    listener: TcpListener,
    console: Option<axum::Router>,
    shutdown: CancellationToken,
) {
    let mut app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let metrics = Arc::clone(&metrics);
            async move {
                (
                    [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
                    metrics.render(),
                )
            }
        }),
    );
    if let Some(console) = console {
        app = app.merge(console);
    }
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
    {
        tracing::error!(error = %e, "metrics server stopped");
    }
}
