//! Metrics in the Prometheus text format, served on a separate plain-HTTP
//! listener (`GET /metrics`) that operators keep on a management network.

use std::sync::Arc;

use lintas_node::Metrics;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Serves `GET /metrics` on `listener` until `shutdown`.
pub(crate) async fn serve(
    metrics: Arc<Metrics>,
    listener: TcpListener,
    shutdown: CancellationToken,
) {
    let app = axum::Router::new().route(
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
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
    {
        tracing::error!(error = %e, "metrics server stopped");
    }
}
