// Event page, live: the server pushes "stats" (counters) and "activity"
// (latest check-ins, attendees' check-in counts, check-ins per minute)
// events after every check-in; nothing here reloads the page.
(function () {
  var SVG = "http://www.w3.org/2000/svg";

  function text(el, v) { if (el) el.textContent = v; }

  // msg is a catalogue message (layout.html's #msgs, the web.js.* keys) in
  // the page's language; a plural message picks its form by the first
  // number. Arguments replace %d/%s in order.
  var M = {};
  try { M = JSON.parse(document.getElementById("msgs").textContent) || {}; } catch (e) { /* keys show */ }
  var plurals = window.Intl && Intl.PluralRules ? new Intl.PluralRules(document.documentElement.lang || "en") : null;
  function msg(key) {
    var args = Array.prototype.slice.call(arguments, 1), m = M[key];
    if (m === undefined) return key;
    if (typeof m === "object") {
      var n = args.filter(function (a) { return typeof a === "number"; })[0];
      m = (plurals && n !== undefined && m[plurals.select(n)]) || m.other;
    }
    var i = 0;
    return m.replace(/%[ds]/g, function () { return String(args[i++]); });
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function clock(iso) {
    var d = new Date(iso);
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  // drawChart draws one bar per minute, oldest left, into the SVG.
  function drawChart(svg, counts) {
    if (!svg) return;
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var w = 300, h = 100, top = 12, bottom = 12;
    var peak = 0;
    counts.forEach(function (n) { if (n > peak) peak = n; });
    text(document.getElementById("rate-peak"), peak);
    var axis = document.createElementNS(SVG, "line");
    axis.setAttribute("class", "axis");
    axis.setAttribute("x1", 0); axis.setAttribute("x2", w);
    axis.setAttribute("y1", h - bottom); axis.setAttribute("y2", h - bottom);
    svg.appendChild(axis);
    var n = counts.length || 1, slot = w / n;
    counts.forEach(function (c, i) {
      if (!c) return;
      var bh = (h - top - bottom) * c / (peak || 1);
      var r = document.createElementNS(SVG, "rect");
      r.setAttribute("class", "bar");
      r.setAttribute("x", (i * slot + slot * 0.15).toFixed(1));
      r.setAttribute("width", (slot * 0.7).toFixed(1));
      r.setAttribute("y", (h - bottom - bh).toFixed(1));
      r.setAttribute("height", bh.toFixed(1));
      var title = document.createElementNS(SVG, "title");
      title.textContent = msg("web.js.checkins_ago", c, n - 1 - i);
      r.appendChild(title);
      svg.appendChild(r);
    });
    var label = document.createElementNS(SVG, "text");
    label.setAttribute("x", 2); label.setAttribute("y", 9);
    label.textContent = peak + msg("web.js.per_min");
    svg.appendChild(label);
    var now = document.createElementNS(SVG, "text");
    now.setAttribute("x", w - 2); now.setAttribute("y", h - 2);
    now.setAttribute("text-anchor", "end");
    now.textContent = msg("web.js.now");
    svg.appendChild(now);
    var past = document.createElementNS(SVG, "text");
    past.setAttribute("x", 2); past.setAttribute("y", h - 2);
    past.textContent = msg("web.js.min_ago", n);
    svg.appendChild(past);
  }

  function cell(cls, v) {
    var td = document.createElement("td");
    td.className = cls;
    td.textContent = v;
    return td;
  }

  // drawFeed replaces the feed's rows with the pushed check-ins, marking
  // the ones not shown before.
  function drawFeed(body, feed) {
    if (!body) return;
    var seen = {};
    body.querySelectorAll("tr.feed-row").forEach(function (tr) { seen[tr.dataset.id] = true; });
    while (body.firstChild) body.removeChild(body.firstChild);
    if (!feed.length) {
      var tr = document.createElement("tr");
      tr.className = "feed-empty";
      var td = cell("", msg("web.js.no_checkins"));
      td.colSpan = 5;
      tr.appendChild(td);
      body.appendChild(tr);
      return;
    }
    feed.forEach(function (f) {
      var tr = document.createElement("tr");
      tr.className = "feed-row" + (seen[f.id] ? "" : " fresh");
      tr.dataset.id = f.id;
      tr.appendChild(cell("time", clock(f.at)));
      tr.appendChild(cell("name", f.name));
      tr.appendChild(cell("kiosk", f.kiosk));
      tr.appendChild(cell("method", f.method));
      tr.appendChild(cell("repeat", f.repeat ? msg("web.js.repeat") : ""));
      body.appendChild(tr);
    });
  }

  function updateAttendees(counts) {
    document.querySelectorAll("#attendees-table tr.attendee").forEach(function (tr) {
      var n = counts[tr.dataset.id];
      if (n !== undefined) text(tr.querySelector("td.checkins"), n);
    });
  }

  var chart = document.getElementById("rate-chart");
  if (chart && chart.dataset.perMinute !== undefined) {
    drawChart(chart, chart.dataset.perMinute.split(",").filter(function (s) { return s !== ""; }).map(Number));
  }


  // Calibration panel: the impostor-score histogram of the event's gallery
  // with the accept / confirm threshold lines, and the rates they imply.
  // Numbers in the page's language; the notes and the history come worded
  // from the server.
  var pageLang = document.documentElement.lang || "en";
  function num(n) { return n.toLocaleString(pageLang); }
  function percent(r, digits) {
    return r.toLocaleString(pageLang, { style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits });
  }
  function rate(r) {
    if (r === null || r === undefined) return msg("web.js.not_estimable");
    if (r <= 0) return percent(0, 0);
    if (r >= 0.5) return percent(r, 0);
    return msg("web.js.one_in", num(Math.round(1 / r)));
  }
  function pct(r) { return r === null || r === undefined ? "?" : percent(r, 1); }

  function svgEl(name, attrs, parent) {
    var el = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(el);
    return el;
  }

  function drawHistogram(svg, c) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var w = 300, h = 130, left = 4, right = 4, top = 14, bottom = 16;
    var hist = c.histogram || {}, counts = hist.counts || [], gen = hist.genuine || [];
    var n = counts.length;
    svgEl("line", { "class": "axis", x1: left, x2: w - right, y1: h - bottom, y2: h - bottom }, svg);
    if (!n) {
      var t = svgEl("text", { x: w / 2, y: h / 2, "text-anchor": "middle" }, svg);
      t.textContent = msg("web.js.no_pairs");
      return;
    }
    var peak = 1, gpeak = 1;
    counts.forEach(function (k) { if (k > peak) peak = k; });
    gen.forEach(function (k) { if (k > gpeak) gpeak = k; });
    var lo = hist.start, hi = hist.start + n * hist.width;
    var x = function (v) { return left + (w - left - right) * (v - lo) / (hi - lo); };
    var slot = (w - left - right) / n, ph = h - top - bottom;
    counts.forEach(function (k, i) {
      if (!k) return;
      var bh = Math.max(ph * k / peak, 1);
      var r = svgEl("rect", { "class": "bar imp", x: (left + i * slot + 0.5).toFixed(1), width: Math.max(slot - 1, 0.5).toFixed(1),
        y: (h - bottom - bh).toFixed(1), height: bh.toFixed(1) }, svg);
      var title = document.createElementNS(SVG, "title");
      var b0 = lo + i * hist.width;
      title.textContent = msg("web.js.hist_bar", k, b0.toFixed(2), (b0 + hist.width).toFixed(2));
      r.appendChild(title);
    });
    gen.forEach(function (k, i) {
      if (!k) return;
      var bh = Math.max(ph * 0.5 * k / gpeak, 1);
      svgEl("rect", { "class": "bar gen", x: (left + i * slot + slot * 0.25).toFixed(1), width: (slot * 0.5).toFixed(1),
        y: (h - bottom - bh).toFixed(1), height: bh.toFixed(1) }, svg);
    });
    [["confirm", c.thresholds.confirm], ["accept", c.thresholds.accept]].forEach(function (t) {
      var xv = x(t[1]).toFixed(1);
      svgEl("line", { "class": "threshold th-" + t[0], x1: xv, x2: xv, y1: top - 4, y2: h - bottom }, svg);
      var anchor = xv > w - 40 ? "end" : xv < 40 ? "start" : "middle";
      var lab = svgEl("text", { x: xv, y: t[0] === "accept" ? top - 6 : top + 4, "text-anchor": anchor }, svg);
      lab.textContent = msg("web.js." + t[0]) + " " + t[1].toFixed(3);
    });
    for (var v = Math.ceil(lo * 10) / 10; v <= hi + 1e-9; v += 0.1) {
      if (x(v) < left + 6 || x(v) > w - right - 6) continue;
      var tick = svgEl("text", { x: x(v).toFixed(1), y: h - 4, "text-anchor": "middle" }, svg);
      tick.textContent = v.toFixed(1);
    }
  }

  function showCalibration(c) {
    var th = c.thresholds;
    text(document.getElementById("calib-accept"), th.accept.toFixed(3));
    text(document.getElementById("calib-confirm"), th.confirm.toFixed(3));
    var status = { calibrated: msg("web.js.calibrated"), pinned: msg("web.js.pinned"),
      too_few: msg("web.js.too_few") }[c.status] || c.status;
    var st = document.getElementById("calib-status");
    if (st) st.firstChild.textContent = status + ": " + msg("web.js.accept") + " ";
    text(document.getElementById("calib-target"), msg("web.js.strangers", rate(c.target_fpir)) +
      (c.calibrated_accept !== null ? msg("web.js.calibrated_accept", c.calibrated_accept.toFixed(3)) : ""));
    text(document.getElementById("calib-implied"), c.implied_fpir === null ? msg("web.js.not_estimable_few") :
      msg("web.js.strangers", rate(c.implied_fpir)) +
      (c.implied_fpir > 0 ? msg("web.js.per_1000", (c.implied_fpir * 1000).toFixed(2)) : ""));
    text(document.getElementById("calib-implied-confirm"), c.implied_confirm_fpir === null ? rate(null) :
      msg("web.js.strangers", rate(c.implied_confirm_fpir)));
    text(document.getElementById("calib-frr"), c.frr.estimable ?
      msg("web.js.frr", pct(c.frr.at_accept), pct(c.frr.at_confirm)) + c.frr.note : c.frr.note);
    text(document.getElementById("calib-gallery"), msg("web.js.gallery", c.gallery_size, num(c.pairs)) +
      (c.sampled ? msg("web.js.sampled") : "") + (c.stale ? msg("web.js.stale") : ""));
    text(document.getElementById("calib-note"), c.note || "");
    var hist = document.getElementById("calib-hist");
    if (hist) drawHistogram(hist, c);
    var ul = document.getElementById("calib-history");
    if (ul) {
      while (ul.firstChild) ul.removeChild(ul.firstChild);
      (c.history || []).forEach(function (e) {
        var li = document.createElement("li");
        li.textContent = e.when + " · " + e.who + " · " + e.text;
        ul.appendChild(li);
      });
      if (!(c.history || []).length) {
        var li = document.createElement("li");
        li.textContent = msg("web.js.no_changes");
        ul.appendChild(li);
      }
    }
    var panel = document.getElementById("calibration");
    if (panel) panel.dataset.ready = "1";
  }

  var calib = document.getElementById("calibration");
  function loadCalibration() {
    if (!calib || !window.fetch) return;
    fetch(calib.dataset.calibrationUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (c) { showCalibration(c); })
      .catch(function (e) { text(document.getElementById("calib-note"), msg("web.js.calib_unavailable", e.message)); });
  }
  loadCalibration();

  var live = document.getElementById("live");
  if (live && window.EventSource) {
    var es = new EventSource(live.dataset.liveUrl);
    es.addEventListener("stats", function (e) {
      var s = JSON.parse(e.data);
      text(document.getElementById("checkins"), s.checkins);
      text(document.getElementById("attendees"), s.attendees);
      text(document.getElementById("repeats"), s.repeats);
      // Registrations change the gallery: refresh the calibration.
      if (calib && calib.dataset.attendees !== undefined && calib.dataset.attendees !== String(s.attendees)) loadCalibration();
      if (calib) calib.dataset.attendees = s.attendees;
    });
    es.addEventListener("activity", function (e) {
      var a = JSON.parse(e.data);
      drawFeed(document.getElementById("feed-body"), a.feed || []);
      updateAttendees(a.attendee_checkins || {});
      drawChart(chart, a.per_minute || []);
    });
  }
  document.querySelectorAll("form.confirm-delete").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.dataset.confirm || "Delete this attendee and their face template?")) e.preventDefault();
    });
  });
})();
