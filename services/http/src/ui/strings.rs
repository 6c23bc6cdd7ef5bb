//! Every word the staff pages show, in one place (German).

pub const APP: &str = "Logbuch";
pub const LOGIN_TITLE: &str = "Anmelden";
pub const LOGIN_TEXT: &str = "Melde dich mit deinem Parteikonto an, um die Tickets deines Verbands zu sehen.";
pub const LOGIN_BUTTON: &str = "Mit Parteikonto anmelden";
pub const LOGIN_OFF: &str = "Die Anmeldung über die Partei ist hier nicht eingerichtet. Admins melden sich mit dem Anmeldelink vom ersten Start an (neu: logbuch admin token link --user …).";
pub const LOGOUT: &str = "Abmelden";
pub const MY_QUEUES: &str = "Meine Queues";
pub const NO_QUEUES: &str = "Du hast noch keine Rolle in einem Verband. Frag die Admins deines Landesverbands.";
pub const QUEUE: &str = "Queue";
pub const TENANT: &str = "Verband";
pub const OPEN_TICKETS: &str = "Offene Tickets";
pub const NO_TICKETS: &str = "Keine offenen Tickets.";
pub const SUBJECT: &str = "Betreff";
pub const REQUESTER: &str = "Von";
pub const STATUS: &str = "Status";
pub const PRIORITY: &str = "Priorität";
pub const OWNER: &str = "Bearbeitet von";
pub const NOBODY: &str = "niemand";
pub const MESSAGES: &str = "Nachrichten";
pub const HISTORY: &str = "Verlauf";
pub const TAKE: &str = "Übernehmen";
pub const RESOLVE: &str = "Erledigt";
pub const HAND_OVER: &str = "An Verband übergeben";
pub const HAND_OVER_TO: &str = "Verband";
pub const SEARCH: &str = "Suche";
pub const SEARCH_HINT: &str = "Wörter, \"genaue Wendung\" oder Anfang* – auch erledigte Tickets";
pub const NO_HITS: &str = "Nichts gefunden.";
pub const BACK: &str = "Zurück zur Übersicht";
pub const NOTE: &str = "Interne Notiz";
pub const REPLY: &str = "Antwort";
pub const INBOUND: &str = "Eingang";

/// A status as people say it.
pub fn status(s: &str) -> &'static str {
    match s {
        "new" => "neu",
        "open" => "in Arbeit",
        "waiting" => "wartet",
        "resolved" => "erledigt",
        _ => "unbekannt",
    }
}

/// A priority as people say it.
pub fn priority(p: &str) -> &'static str {
    match p {
        "low" => "niedrig",
        "normal" => "normal",
        "high" => "hoch",
        "urgent" => "dringend",
        _ => "unbekannt",
    }
}

/// A message kind as people say it.
pub fn kind(k: &str) -> &'static str {
    match k {
        "inbound" => INBOUND,
        "outbound" => REPLY,
        "note" => NOTE,
        _ => "Nachricht",
    }
}
