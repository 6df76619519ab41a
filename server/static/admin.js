// Live counters: the server pushes "stats" events after every check-in.
(function () {
  var live = document.getElementById("live");
  if (live && window.EventSource) {
    var es = new EventSource(live.dataset.liveUrl);
    es.addEventListener("stats", function (e) {
      var s = JSON.parse(e.data);
      document.getElementById("checkins").textContent = s.checkins;
      document.getElementById("attendees").textContent = s.attendees;
      document.getElementById("repeats").textContent = s.repeats;
    });
  }
  document.querySelectorAll("form.confirm-delete").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm("Delete this attendee and their face template?")) e.preventDefault();
    });
  });
})();
