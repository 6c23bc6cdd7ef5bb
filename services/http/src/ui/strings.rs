//! Every word the staff pages show, in one place (German).

pub(crate) use super::KEYS_JS;

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
pub const PAUSED: &str = "pausiert, solange das Ticket auf Antwort wartet";
pub const HAND_OVER: &str = "An Verband übergeben";
pub const HAND_OVER_TO: &str = "Verband";
pub const SEARCH: &str = "Suche";
pub const SEARCH_HINT: &str = "Wörter, \"genaue Wendung\" oder Anfang* – auch erledigte Tickets";
pub const NO_HITS: &str = "Nichts gefunden.";
pub const BACK: &str = "Zurück zur Übersicht";
pub const NOTE: &str = "Interne Notiz";
pub const REPLY: &str = "Antwort";
pub const INBOUND: &str = "Eingang";

pub const MY_TICKETS: &str = "Meine Tickets";
pub const NO_MY_TICKETS: &str = "Du bearbeitest gerade kein offenes Ticket.";
pub const TRIAGE: &str = "Triage des Bundes";
pub const TRIAGE_TEXT: &str =
    "Mails, die keinem Verband zugeordnet werden konnten. Übergib sie an den zuständigen Landesverband.";
pub const ADMIN: &str = "Verwaltung";
pub const NEW: &str = "neu";
pub const IN_PROGRESS: &str = "in Arbeit";
pub const WAITING: &str = "wartet";
pub const OVERDUE: &str = "überfällig";
pub const NEXT_DUE: &str = "Nächste Frist";
pub const PROCESSES: &str = "Abläufe";
pub const BULK_DONE: &str = "Sammelaktion";
pub const SAVE_DRAFT: &str = "Entwurf speichern";
pub const MERGED_INTO: &str = "Dieses Ticket ist zusammengeführt in";
pub const MERGE_FROM: &str = "Ticket Nr. hierher zusammenführen";
pub const MERGE: &str = "Zusammenführen";
pub const TAG: &str = "Schlagwort";
pub const ALSO_HERE: &str = "Dieses Ticket hat gerade auch offen:";
pub const PREVIOUS_TICKET: &str = "← Voriges Ticket der Queue";
pub const NEXT_TICKET: &str = "Nächstes Ticket der Queue →";
pub const TAGS: &str = "Schlagwörter";
pub const TAG_ADD: &str = "Hinzufügen";
pub const KEYS: &str = "Tastenkürzel";
pub const VIEW_NAME: &str = "Als Ansicht";
pub const VIEW_SHARE: &str = "für den ganzen Verband";
pub const VIEW_SAVE: &str = "Ansicht speichern";
pub const VIEWS: &str = "Ansichten";
pub const TICKETS_COUNT: &str = "Tickets";
pub const VIEW_DELETE: &str = "Löschen";
pub const VIEW_SHARED: &str = "geteilt mit";
pub const SEND_ANYWAY: &str = "Trotzdem senden";
pub const REQUESTER_CONTEXT: &str = "Diese Person";
pub const REQUESTER_OTHER: &str = "Weitere Anfragen";
pub const REQUESTER_NONE: &str = "Keine weiteren Anfragen, die du sehen darfst.";
pub const REQUESTER_BOUNCES: &str = "Unzustellbar";
pub const BULK_REFUSED: &str = "Nicht geändert";
pub const BACK_TO_LIST: &str = "Zurück zur Liste";
pub const FILTER: &str = "Filtern";
pub const FILTER_OWNER: &str = "Bearbeitung";
pub const FILTER_OVERDUE: &str = "nur überfällige";
pub const FILTER_TEXT: &str = "Text";
pub const SORT: &str = "Sortierung";
pub const CHOOSE: &str = "Auswahl";
pub const BULK_ACTION: &str = "Mit den ausgewählten";
pub const BULK_APPLY: &str = "Ausführen";
pub const PROCESS_DONE: &str = "abgeschlossen";
pub const START_PROCESS: &str = "Ablauf beginnen";
pub const START: &str = "Beginnen";
pub const STEP_DONE: &str = "Erledigt";
pub const STEP_SEND: &str = "Mail senden und abhaken";
pub const STEP_WAITS: &str =
    "Wartet auf die Antwort der anfragenden Person von ihrer Adresse; dann geht es von selbst weiter.";
pub const STEP_STATE_DONE: &str = "erledigt";
pub const STEP_STATE_CURRENT: &str = "ist dran";
pub const STEP_STATE_PENDING: &str = "später";
pub const OVERDUE_STEPS: &str = "Überfällige Schritte";
pub const COVERING: &str = "Du vertrittst";
pub const COVERING_NONE: &str = "Keine offenen Tickets.";
pub const ABSENCE: &str = "Abwesenheit";
pub const ABSENCE_HINT: &str =
    "Während du weg bist, gehen neue Zuweisungen und Benachrichtigungen an deine Vertretung.";
pub const ABSENT_FROM: &str = "Von";
pub const ABSENT_UNTIL: &str = "Bis (einschließlich)";
pub const DEPUTY: &str = "Vertretung (Mailadresse)";
pub const SAVE_ABSENCE: &str = "Abwesenheit eintragen";
pub const END_ABSENCE: &str = "Abwesenheit beenden";
pub const NO_ABSENCE: &str = "Du bist nicht als abwesend eingetragen.";
pub const STEP: &str = "Schritt";
pub const TICKET: &str = "Ticket";
pub const DUE: &str = "Frist";
pub const AGE: &str = "Eingang";
pub const MORE: &str = "Weitere Tickets";
pub const PREVIOUS: &str = "Vorherige Seite";
pub const REOPEN: &str = "Wieder öffnen";
pub const ASSIGN: &str = "Zuweisen";
pub const ASSIGN_TO: &str = "Zuweisen an";
pub const WATCHERS: &str = "Beobachter";
pub const NO_WATCHERS: &str = "Niemand beobachtet dieses Ticket.";
pub const WATCH: &str = "Beobachten";
pub const UNWATCH: &str = "Entfernen";
pub const ADD_WATCHER: &str = "Beobachter hinzufügen";
pub const CHANGE: &str = "Ändern";
pub const MOVE: &str = "Verschieben";
pub const MOVE_TO: &str = "In Queue";
pub const WRITE_NOTE: &str = "Interne Notiz schreiben";
pub const NOTE_HINT: &str = "Nur für das Team sichtbar, geht nicht an die anfragende Person.";
pub const SAVE_NOTE: &str = "Notiz speichern";
pub const WRITE_REPLY: &str = "Antworten";
pub const REPLY_HINT: &str = "Geht per Mail an die anfragende Person.";
pub const SEND_REPLY: &str = "Antwort senden";
pub const CANNED: &str = "Textbaustein";
pub const USE_CANNED: &str = "Einsetzen";
pub const ATTACHMENTS: &str = "Anhänge";
pub const LINKED: &str = "Dieselbe Mail ging auch an";
pub const FIRST_RESPONSE_DUE: &str = "Erste Antwort fällig";
pub const RESOLUTION_DUE: &str = "Erledigung fällig";
pub const QUEUES: &str = "Queues";
pub const ADDRESSES: &str = "Adressen";
pub const SLA: &str = "Fristen (erste Antwort / Erledigung)";
pub const QUEUES_FROM_FILE: &str = "Queues, Adressen und Fristen stehen in der Verbandsdatei (federation.toml) und werden beim Start übernommen; Änderungen bitte dort.";
pub const TEMPLATES: &str = "Vorlagen und Textbausteine";
pub const TEMPLATE_SOURCE: &str = "Herkunft";
pub const EDIT: &str = "Bearbeiten";
pub const SAVE: &str = "Speichern";
pub const DELETE_OWN: &str = "Eigene Fassung löschen";
pub const NEW_CANNED: &str = "Neuer Textbaustein";
pub const CANNED_NAME_HINT: &str = "Name aus Kleinbuchstaben, Ziffern und Bindestrichen, z. B. austritt";
pub const CREATE: &str = "Anlegen";
pub const TEMPLATE_SUBJECT: &str = "Betreff";
pub const TEMPLATE_BODY: &str = "Text";
pub const TEMPLATE_HTML: &str = "HTML (optional)";
pub const TEMPLATE_HELP: &str = "Platzhalter wie {{ ticket.number }}, {{ ticket.subject }}, {{ ticket.tenant_name }}, {{ ticket.queue_name }}, {{ ticket.link }}, {{ requester.name }}. Vor dem Speichern wird die Vorlage probeweise gefüllt; Fehler nennen die Zeile.";
pub const MINUTES: &str = "Min.";
pub const HOURS: &str = "Std.";
pub const DAYS: &str = "Tg.";

/// The source of a template as people say it.
pub fn template_source(s: &str) -> String {
    match s {
        "builtin" => "eingebaut".to_owned(),
        "bund" => "vom Bund".to_owned(),
        own => format!("eigene Fassung ({own})"),
    }
}

/// A span of time, rounded: "5 Min.", "3 Std.", "2 Tg.".
pub fn span(d: chrono::Duration) -> String {
    let m = d.num_minutes().abs();
    if m < 120 {
        format!("{m} {MINUTES}")
    } else if m < 48 * 60 {
        format!("{} {HOURS}", m / 60)
    } else {
        format!("{} {DAYS}", m / 60 / 24)
    }
}

/// A due time seen from now: "in 3 Std." or "seit 2 Tg. überfällig".
pub fn due(at: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> String {
    if at >= now { format!("in {}", span(at - now)) } else { format!("seit {} {OVERDUE}", span(now - at)) }
}

/// How long ago: "vor 3 Std.".
pub fn ago(at: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> String {
    format!("vor {}", span(now - at))
}

/// A history entry's field as people say it.
pub fn field(f: &str) -> &str {
    match f {
        "created" => "angelegt",
        "owner" => "Bearbeitung",
        "status" => "Status",
        "priority" => "Priorität",
        "queue" => "Queue",
        "watcher" => "Beobachter",
        "reply" => "Antwort",
        "note" => "Notiz",
        "message" => "Nachricht",
        "link" => "verknüpft",
        "bounce" => "Unzustellbar",
        "collected" => "gesammelt",
        "mail_failed" => "Mail nicht zugestellt",
        "breach" => "Frist überschritten",
        "process" => "Ablauf",
        "absence" => "Vertretung",
        "merged" => "zusammengeführt",
        "tag" => "Schlagwort",
        "legal_hold" => "Sperrvermerk",
        "export" => "Datenauskunft",
        "encryption" => "Verschlüsselung",
        "pgp_key" => "OpenPGP-Schlüssel hinterlegt",
        "import" => "Import",
        "imported" => "früherer Verlauf",
        "subject" => "Betreff",
        other => other,
    }
}

/// A history value in words: statuses and priorities in German, the rest as stored.
pub fn value<'a>(field: &str, v: &'a str) -> &'a str {
    match field {
        "status" => status(v),
        "priority" => priority(v),
        _ => v,
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn times_read_like_people_say_them() {
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap();
        assert_eq!(due(now + Duration::minutes(45), now), "in 45 Min.");
        assert_eq!(due(now + Duration::hours(5), now), "in 5 Std.");
        assert_eq!(due(now - Duration::days(3), now), "seit 3 Tg. überfällig");
        assert_eq!(ago(now - Duration::minutes(130), now), "vor 2 Std.");
    }
}
