//! Logs and traces. Without an OTLP endpoint: logs to stderr (text, or JSON
//! with `LOGBUCH_LOG_FORMAT=json`). With `OTEL_EXPORTER_OTLP_ENDPOINT` (the
//! standard variable; `OTEL_SERVICE_NAME` and the other `OTEL_*` settings
//! apply too): the spans also go out over OTLP/HTTP (JSON), batched, and the
//! metrics every `OTEL_METRIC_EXPORT_INTERVAL` milliseconds (default 60 s).
//!
//! A mail's intake crosses processes (the poller stores it, any worker
//! processes it); [`traceparent`] and [`continue_trace`] carry the trace
//! through the job, so fetch to commit is one trace.
//!
//! Spans carry ids and counts, never addresses, subjects or bodies.

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::collections::HashMap;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Flushes the exporters when dropped (keep it until the process ends).
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
    meters: Option<opentelemetry_sdk::metrics::SdkMeterProvider>,
}

impl Telemetry {
    /// Whether metrics go out over OTLP (then it is worth computing them).
    pub fn exports_metrics(&self) -> bool {
        self.meters.is_some()
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(p) = self.provider.take() {
            let _ = p.shutdown();
        }
        if let Some(m) = self.meters.take() {
            let _ = m.shutdown();
        }
    }
}

/// How often metrics are exported (`OTEL_METRIC_EXPORT_INTERVAL`, ms).
pub fn metric_interval() -> std::time::Duration {
    std::env::var("OTEL_METRIC_EXPORT_INTERVAL")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(std::time::Duration::from_secs(60), std::time::Duration::from_millis)
}

/// The meter all of Logbuch's instruments come from (a no-op without OTLP).
pub fn meter() -> opentelemetry::metrics::Meter {
    opentelemetry::global::meter("logbuch")
}

/// Installs the global subscriber; call once at start.
pub fn init() -> Telemetry {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let json = std::env::var("LOGBUCH_LOG_FORMAT").is_ok_and(|f| f == "json");
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok().filter(|e| !e.is_empty());
    let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "logbuch".into());
    let resource = || opentelemetry_sdk::Resource::builder().with_service_name(service.clone()).build();
    let meters = endpoint.as_ref().and_then(|_| {
        let exporter = opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpJson)
            .build()
            .map_err(|e| eprintln!("OTLP: keine Metriken ({e})"))
            .ok()?;
        let reader =
            opentelemetry_sdk::metrics::PeriodicReader::builder(exporter).with_interval(metric_interval()).build();
        let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
            .with_reader(reader)
            .with_resource(resource())
            .build();
        opentelemetry::global::set_meter_provider(provider.clone());
        Some(provider)
    });
    let provider = endpoint.and_then(|_| {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpJson)
            .build()
            .map_err(|e| eprintln!("OTLP: kein Export ({e})"))
            .ok()?;
        Some(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource()).build())
    });
    let otel = provider.as_ref().map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("logbuch")));
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    if json {
        registry.with(stderr.json()).init();
    } else {
        registry.with(stderr).init();
    }
    Telemetry { provider, meters }
}

/// The current span's trace as a W3C `traceparent`, when it is being traced.
pub fn traceparent() -> Option<String> {
    let context = tracing::Span::current().context();
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.remove("traceparent")
}

/// Makes `span` a child of the trace a job carried (no-op without one).
pub fn continue_trace(span: &tracing::Span, traceparent: Option<&str>) {
    if let Some(tp) = traceparent {
        let carrier = HashMap::from([("traceparent".to_owned(), tp.to_owned())]);
        let _ = span.set_parent(TraceContextPropagator::new().extract(&carrier));
    }
}
