//! Request time limits, as one middleware: every request but an upload must be answered
//! within [`REQUEST_TIMEOUT`]; an upload (a `multipart/form-data` body: a 200 MB bulletin
//! over ward Wi-Fi can take many minutes) is bounded instead by [`UPLOAD_IDLE_TIMEOUT`]
//! without a byte and [`UPLOAD_TIMEOUT`] in all. A request over its limit is answered 408
//! with the JSON error body; an upload's temporary file is removed by the upload path as
//! for any broken upload. Slow request headers are bounded by the server loop (`server`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, BodyDataStream, Bytes};
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_core::Stream;

use super::ApiError;

/// The whole of a page or API request, body included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest an upload's body may go without sending a byte.
pub const UPLOAD_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The whole of an upload (200 MB at 0.5 Mbit/s is under an hour).
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// Middleware: bounds the request by its kind's limits; over them, 408.
pub async fn bound(req: Request, next: Next) -> Response {
    let upload = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !upload {
        return match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
            Ok(r) => r,
            Err(_) => timed_out(format!(
                "the request took longer than {} s; try again",
                REQUEST_TIMEOUT.as_secs()
            )),
        };
    }
    let stalled = Arc::new(AtomicBool::new(false));
    let (parts, body) = req.into_parts();
    let body = Body::from_stream(IdleLimited {
        inner: body.into_data_stream(),
        sleep: Box::pin(tokio::time::sleep(UPLOAD_IDLE_TIMEOUT)),
        stalled: stalled.clone(),
    });
    let req = Request::from_parts(parts, body);
    match tokio::time::timeout(UPLOAD_TIMEOUT, next.run(req)).await {
        Ok(_) if stalled.load(Ordering::SeqCst) => timed_out(format!(
            "the upload stalled: no data for {} s; check the connection and upload again",
            UPLOAD_IDLE_TIMEOUT.as_secs()
        )),
        Ok(r) => r,
        Err(_) => timed_out(format!(
            "the upload took longer than {} minutes; upload a smaller file or use `loa add` on the box",
            UPLOAD_TIMEOUT.as_secs() / 60
        )),
    }
}

fn timed_out(message: String) -> Response {
    ApiError::new(StatusCode::REQUEST_TIMEOUT, "timeout", message).into_response()
}

/// A body stream that fails once no data arrived for [`UPLOAD_IDLE_TIMEOUT`], and says so.
struct IdleLimited {
    inner: BodyDataStream,
    sleep: Pin<Box<tokio::time::Sleep>>,
    stalled: Arc<AtomicBool>,
}

impl Stream for IdleLimited {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            let deadline = tokio::time::Instant::now() + UPLOAD_IDLE_TIMEOUT;
            self.sleep.as_mut().reset(deadline);
            return Poll::Ready(item);
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.stalled.store(true, Ordering::SeqCst);
                Poll::Ready(Some(Err(axum::Error::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "no upload data within the idle time limit",
                )))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
