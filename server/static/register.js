// Webcam capture for the registration form: the snapshot becomes the file
// of the photo input, so the form posts the same way as an upload.
(function () {
  var input = document.getElementById("photo");
  var useCam = document.getElementById("use-camera");
  var camera = document.getElementById("camera");
  var video = document.getElementById("video");
  var snap = document.getElementById("snap");
  var preview = document.getElementById("preview");
  document.querySelectorAll("form.confirm-delete").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.dataset.confirm || "Delete your registration and face template?")) e.preventDefault();
    });
  });
  // The chooser is our own label (the browser's file button speaks the
  // browser's language, not the page's): show the chosen file's name.
  var chosen = document.getElementById("photo-name");
  function showChosen() {
    if (chosen && input.files && input.files.length) chosen.textContent = input.files[0].name;
  }
  if (input) input.addEventListener("change", showChosen);
  if (!input || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.DataTransfer) return;
  useCam.hidden = false;
  useCam.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "user", width: 1280, height: 720 } }).then(function (stream) {
      video.srcObject = stream;
      camera.hidden = false;
      useCam.hidden = true;
    }).catch(function (err) {
      useCam.textContent = (useCam.dataset.unavailable || "Camera not available: %s").replace("%s", err.name);
    });
  });
  snap.addEventListener("click", function () {
    var c = document.createElement("canvas");
    c.width = video.videoWidth;
    c.height = video.videoHeight;
    c.getContext("2d").drawImage(video, 0, 0);
    c.toBlob(function (blob) {
      var dt = new DataTransfer();
      dt.items.add(new File([blob], "selfie.jpg", { type: "image/jpeg" }));
      input.files = dt.files;
      showChosen();
      preview.src = URL.createObjectURL(blob);
      preview.hidden = false;
    }, "image/jpeg", 0.92);
  });
})();
