// Event page, live: the server pushes "stats" (counters) and "activity"
// (latest check-ins, attendees' check-in counts, check-ins per minute)
// events after every check-in; nothing here reloads the page.
(function () {
  var SVG = "http://www.w3.org/2000/svg";

  function text(el, v) { if (el) el.textContent = v; }

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
      title.textContent = c + " check-in" + (c === 1 ? "" : "s") + ", " + (n - 1 - i) + " min ago";
      r.appendChild(title);
      svg.appendChild(r);
    });
    var label = document.createElementNS(SVG, "text");
    label.setAttribute("x", 2); label.setAttribute("y", 9);
    label.textContent = peak + "/min";
    svg.appendChild(label);
    var now = document.createElementNS(SVG, "text");
    now.setAttribute("x", w - 2); now.setAttribute("y", h - 2);
    now.setAttribute("text-anchor", "end");
    now.textContent = "now";
    svg.appendChild(now);
    var past = document.createElementNS(SVG, "text");
    past.setAttribute("x", 2); past.setAttribute("y", h - 2);
    past.textContent = "-" + n + " min";
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
      var td = cell("", "No check-ins yet.");
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
      tr.appendChild(cell("repeat", f.repeat ? "repeat" : ""));
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

  var live = document.getElementById("live");
  if (live && window.EventSource) {
    var es = new EventSource(live.dataset.liveUrl);
    es.addEventListener("stats", function (e) {
      var s = JSON.parse(e.data);
      text(document.getElementById("checkins"), s.checkins);
      text(document.getElementById("attendees"), s.attendees);
      text(document.getElementById("repeats"), s.repeats);
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
      if (!window.confirm("Delete this attendee and their face template?")) e.preventDefault();
    });
  });
})();
