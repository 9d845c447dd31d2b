// QIDE dashboard: live updates. Pages work without this script; with it,
// the build list refreshes as builds change, a running build's page
// reloads when it finishes, and the log viewer appends new lines as they
// are captured. It follows the API's server-sent events and fetches HTML
// fragments the server renders (and escapes); it never builds markup from
// event data itself.
(function () {
  "use strict";
  var params = {};
  var holder = document.getElementById("live");
  if (!holder || !window.EventSource || !window.fetch) return;
  holder.querySelectorAll("span[data-name]").forEach(function (el) {
    params[el.getAttribute("data-name")] = el.getAttribute("data-value");
  });

  // Runs `work` (a function returning a promise) now, or once more after
  // the current run if asked again meanwhile: bursts of events cost at
  // most two fetches.
  function coalesce(work) {
    var running = false, again = false;
    return function kick() {
      if (running) { again = true; return; }
      running = true;
      work().catch(function () {}).then(function () {
        running = false;
        if (again) { again = false; setTimeout(kick, 250); }
      });
    };
  }

  function fragmentUrl(kind) {
    var url = new URL(window.location.href);
    url.hash = "";
    url.searchParams.set("fragment", kind);
    return url;
  }

  if (params.page === "list") {
    var section = document.getElementById("builds");
    var refresh = coalesce(function () {
      return fetch(fragmentUrl("rows"), { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
        .then(function (html) { section.innerHTML = html; });
    });
    var events = new EventSource("/events");
    events.addEventListener("build", refresh);
    events.addEventListener("lagged", refresh);
  }

  // A running build's log, on the log viewer or a build's page: new lines
  // are appended as they are captured, the oldest dropped past `data-keep`
  // so a long build cannot grow the page without bound.
  if (params.next) {
    var holderBox = document.getElementById("log-lines");
    var box = holderBox && holderBox.querySelector(".log");
    if (!box) return;
    var keep = Number(holderBox.getAttribute("data-keep")) || 5000;
    var status = document.getElementById("log-status");
    var next = Number(params.next);
    var done = false;
    var append = coalesce(function () {
      var url = new URL("/builds/" + params.build + "/log", window.location.href);
      url.searchParams.set("fragment", "lines");
      url.searchParams.set("from", String(next));
      url.searchParams.set("limit", "2000");
      return fetch(url, { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
        .then(function (html) {
          if (!html) return;
          var atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
          box.insertAdjacentHTML("beforeend", html);
          // The page's line counts were true when it loaded; no longer.
          document.querySelectorAll("nav.pager").forEach(function (nav) { nav.hidden = true; });
          var lines = box.querySelectorAll(".ln[data-n]");
          if (lines.length) next = Number(lines[lines.length - 1].getAttribute("data-n")) + 1;
          var excess = lines.length - keep;
          while (excess > 0 && box.firstElementChild) {
            if (box.firstElementChild.classList.contains("ln")) excess--;
            box.removeChild(box.firstElementChild);
          }
          if (atBottom) window.scrollTo(0, document.body.scrollHeight);
        });
    });
    var stream = new EventSource("/build/" + params.build + "/events?from=" + next);
    stream.addEventListener("log", append);
    stream.addEventListener("done", function (e) {
      if (done) return;
      done = true;
      stream.close();
      // A build's page shows diagnostics once the build is done: reload it.
      if (params.page === "build") { window.location.reload(); return; }
      append();
      var build;
      try { build = JSON.parse(e.data).build; } catch (err) { build = null; }
      if (status && build) {
        status.textContent = "The build finished: " + build.status + ". ";
        var link = document.createElement("a");
        link.href = "/builds/" + params.build;
        link.textContent = "See its diagnostics";
        status.appendChild(link);
      }
    });
  }
})();
