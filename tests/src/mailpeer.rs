//! The Dovecot test peer (tests/peers/dovecot-up.sh): deliver over LMTP,
//! empty a mailbox over IMAP, and a federation file that lists the mailbox.

use futures_util::TryStreamExt;
use logbuch_config::Settings;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub const IMAP_PORT: u16 = 1143;
pub const LMTP_PORT: u16 = 2424;
pub const PASSWORD: &str = "secret";

/// A Dovecot user of its own for each test: `imap<slot><s|p>`.
pub fn imap_user(slot: char, backend: crate::Backend) -> String {
    format!("imap{slot}{}", if backend == crate::Backend::Sqlite { 's' } else { 'p' })
}

async fn expect(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>, code: &str) {
    loop {
        let mut line = String::new();
        r.read_line(&mut line).await.unwrap();
        assert!(line.starts_with(code), "LMTP: expected {code}, got {line:?}");
        if line.as_bytes().get(3) == Some(&b' ') {
            return;
        }
    }
}

/// Delivers a mail to a Dovecot user over LMTP, as Postfix would.
pub async fn lmtp_deliver(user: &str, raw: &[u8]) {
    transfer(LMTP_PORT, "LHLO", "sender@example.org", user, raw).await;
}

/// Submits a mail over SMTP (Postfix on :2525 in tests/peers), envelope given.
pub async fn smtp_submit(port: u16, from: &str, rcpt: &str, raw: &[u8]) {
    transfer(port, "EHLO", from, rcpt, raw).await;
}

/// One SMTP or LMTP transaction (`hello` is EHLO or LHLO), with dot-stuffing.
async fn transfer(port: u16, hello: &str, from: &str, rcpt: &str, raw: &[u8]) {
    let tcp = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("mail server of tests/peers (dovecot-up.sh, postfix-up.sh)");
    let (r, mut w) = tcp.into_split();
    let mut r = BufReader::new(r);
    expect(&mut r, "220").await;
    w.write_all(format!("{hello} logbuch-test\r\n").as_bytes()).await.unwrap();
    expect(&mut r, "250").await;
    w.write_all(format!("MAIL FROM:<{from}>\r\n").as_bytes()).await.unwrap();
    expect(&mut r, "250").await;
    w.write_all(format!("RCPT TO:<{rcpt}>\r\n").as_bytes()).await.unwrap();
    expect(&mut r, "250").await;
    w.write_all(b"DATA\r\n").await.unwrap();
    expect(&mut r, "354").await;
    let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    for line in text.lines() {
        let stuffed = if line.starts_with('.') { format!(".{line}\r\n") } else { format!("{line}\r\n") };
        w.write_all(stuffed.as_bytes()).await.unwrap();
    }
    w.write_all(b".\r\n").await.unwrap();
    expect(&mut r, "250").await;
    w.write_all(b"QUIT\r\n").await.unwrap();
}

/// Empties a user's INBOX (mail left by an earlier run of the same test).
pub async fn imap_reset(user: &str) {
    let tcp = TcpStream::connect(("127.0.0.1", IMAP_PORT)).await.expect("Dovecot IMAP on :1143");
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.unwrap();
    let mut s = client.login(user, PASSWORD).await.map_err(|(e, _)| e).unwrap();
    let mb = s.select("INBOX").await.unwrap();
    if mb.exists > 0 {
        let _: Vec<_> = s.store("1:*", "+FLAGS.SILENT (\\Deleted)").await.unwrap().try_collect().await.unwrap();
        let _: Vec<_> = s.expunge().await.unwrap().try_collect().await.unwrap();
    }
    s.logout().await.unwrap();
}

/// UIDs of the seen mails in a user's INBOX.
pub async fn imap_seen(user: &str) -> usize {
    let tcp = TcpStream::connect(("127.0.0.1", IMAP_PORT)).await.unwrap();
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.unwrap();
    let mut s = client.login(user, PASSWORD).await.map_err(|(e, _)| e).unwrap();
    s.select("INBOX").await.unwrap();
    let n = s.uid_search("SEEN").await.unwrap().len();
    s.logout().await.unwrap();
    n
}

/// Points the settings at a federation file: the embedded one plus mailboxes for `users`.
pub fn with_mailboxes(settings: &mut Settings, users: &[String]) {
    let mut text = logbuch_config::EMBEDDED_FEDERATION.to_owned();
    for u in users {
        text.push_str(&format!(
            "\n[[mailbox]]\nname = \"{u}\"\nhost = \"127.0.0.1\"\nport = {IMAP_PORT}\nsecurity = \"none\"\nuser = \"{u}\"\npassword = \"{PASSWORD}\"\n"
        ));
    }
    let path = settings.data_dir.join("federation.toml");
    std::fs::write(&path, text).unwrap();
    settings.federation_file = Some(path);
}

/// The raw mails in a user's INBOX.
pub async fn imap_fetch_all(user: &str) -> Vec<Vec<u8>> {
    let tcp = TcpStream::connect(("127.0.0.1", IMAP_PORT)).await.unwrap();
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.unwrap();
    let mut s = client.login(user, PASSWORD).await.map_err(|(e, _)| e).unwrap();
    let mb = s.select("INBOX").await.unwrap();
    let mut out = Vec::new();
    if mb.exists > 0 {
        let fetched: Vec<_> = s.fetch("1:*", "BODY.PEEK[]").await.unwrap().try_collect().await.unwrap();
        out = fetched.iter().filter_map(|f| f.body().map(<[u8]>::to_vec)).collect();
    }
    s.logout().await.unwrap();
    out
}
