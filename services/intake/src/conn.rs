//! The IMAP connection: plain (loopback only), STARTTLS or TLS (rustls with
//! the Mozilla roots), behind one stream type.

use anyhow::{Context, bail};
use logbuch_config::{ImapSecurity, MailboxSpec};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

#[derive(Debug)]
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

fn tls() -> TlsConnector {
    let roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let config = ClientConfig::builder_with_provider(Arc::new(tokio_rustls::rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth());
    match config {
        Ok(c) => TlsConnector::from(Arc::new(c)),
        // The ring provider supports the safe defaults; this cannot fail in practice.
        Err(_) => TlsConnector::from(Arc::new(
            ClientConfig::builder().with_root_certificates(RootCertStore::empty()).with_no_client_auth(),
        )),
    }
}

/// Connects and reads the greeting; STARTTLS when asked for.
pub async fn connect(spec: &MailboxSpec) -> anyhow::Result<async_imap::Client<Stream>> {
    let tcp =
        tokio::time::timeout(std::time::Duration::from_secs(15), TcpStream::connect((spec.host.as_str(), spec.port)))
            .await
            .with_context(|| format!("connecting to {}:{} timed out", spec.host, spec.port))?
            .with_context(|| format!("cannot connect to {}:{}", spec.host, spec.port))?;
    let name = || ServerName::try_from(spec.host.clone()).context("invalid IMAP host name");
    match spec.security {
        ImapSecurity::None => {
            let ip_local =
                spec.host == "localhost" || spec.host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if !ip_local {
                bail!("mailbox {}: security = \"none\" is only allowed for a server on this machine", spec.name);
            }
            let mut client = async_imap::Client::new(Stream::Plain(tcp));
            client.read_response().await?.context("no IMAP greeting")?;
            Ok(client)
        }
        ImapSecurity::Tls => {
            let stream = tls().connect(name()?, tcp).await.context("TLS handshake")?;
            let mut client = async_imap::Client::new(Stream::Tls(Box::new(stream)));
            client.read_response().await?.context("no IMAP greeting")?;
            Ok(client)
        }
        ImapSecurity::Starttls => {
            let mut client = async_imap::Client::new(tcp);
            client.read_response().await?.context("no IMAP greeting")?;
            client.run_command_and_check_ok("STARTTLS", None).await.context("STARTTLS")?;
            let tcp = client.into_inner();
            let stream = tls().connect(name()?, tcp).await.context("TLS handshake after STARTTLS")?;
            Ok(async_imap::Client::new(Stream::Tls(Box::new(stream))))
        }
    }
}
