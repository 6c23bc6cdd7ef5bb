// Logbuch keyboard shortcuts (listed on /ui/tastatur). Everything works without this script.
(function () {
  "use strict";
  function typing(t) {
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(t.tagName));
  }
  function byId(id) { return document.getElementById(id); }
  function click(id) { var el = byId(id); if (el) { el.click(); return true; } return false; }
  function focus(id) { var el = byId(id); if (el) { el.focus(); return true; } return false; }
  function move(step) {
    var list = Array.prototype.slice.call(document.querySelectorAll("a[data-ticket]"));
    // On a ticket: the next or previous one of its queue.
    if (!list.length) { return click(step > 0 ? "naechstes" : "voriges"); }
    var i = list.indexOf(document.activeElement);
    var next = i < 0 ? (step > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, i + step));
    list[next].focus();
    return true;
  }
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && t && t.tagName === "TEXTAREA" && t.form) {
      e.preventDefault();
      t.form.requestSubmit();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey || typing(t)) { return; }
    var done = false;
    switch (e.key) {
      case "j": done = move(1); break;
      case "k": done = move(-1); break;
      case "t": done = click("uebernehmen"); break;
      case "r": done = focus("antwort-text"); break;
      case "n":
        if (byId("notiz")) { byId("notiz").open = true; done = focus("notiz-text"); }
        break;
      case "e": done = click("erledigt"); break;
      case "/":
        done = focus("f-q") || focus("q");
        if (!done) { window.location.href = "/ui/search"; done = true; }
        break;
      case "?": window.location.href = "/ui/tastatur"; done = true; break;
    }
    if (done) { e.preventDefault(); }
  });
})();
