// Huella console: small progressive enhancements. Every page works without
// this script; it adds image previews and finger marks on the enroll form,
// zoom and the highlighting of paired minutiae on a hit's side by side.
"use strict";
(function () {
  // Show each chosen image at once, with its size in pixels. Formats the
  // browser cannot draw (WSQ, TIFF) show their name and a note instead.
  function preview(input) {
    var box = document.getElementById(input.dataset.preview);
    if (!box) return;
    var img = box.querySelector("img");
    var dims = box.querySelector(".dims");
    if (img.dataset.url) { URL.revokeObjectURL(img.dataset.url); delete img.dataset.url; }
    img.hidden = true;
    dims.textContent = "";
    box.classList.remove("has-image", "no-preview");
    var file = input.files && input.files[0];
    if (!file) return;
    var url = URL.createObjectURL(file);
    img.dataset.url = url;
    img.onload = function () {
      img.hidden = false;
      box.classList.add("has-image");
      dims.textContent = img.naturalWidth + "×" + img.naturalHeight + " px · " + Math.round(file.size / 1024) + " KiB";
    };
    img.onerror = function () {
      box.classList.add("no-preview");
      dims.textContent = file.name + " · " + (document.body.dataset.noPreview || "");
    };
    img.alt = file.name;
    img.src = url;
    measure(input, box, file);
  }
  // Ask the server for the engine's quality of the image, where the form
  // offers it, and prompt a recapture below the threshold.
  function measure(input, box, file) {
    var form = input.form;
    var out = box.querySelector(".quality");
    if (!form || !form.dataset.quality || !out || !input.dataset.modality) return;
    var data = new FormData();
    data.append("csrf", form.querySelector("input[name=csrf]").value);
    data.append("modality", input.dataset.modality);
    data.append("position", input.dataset.position || "");
    data.append("eye", input.dataset.eye || "");
    var ppi = document.getElementById("ppi");
    data.append("ppi", ppi ? ppi.value : "");
    data.append("image", file, file.name);
    out.textContent = document.body.dataset.waitText || "";
    out.className = "quality";
    var asked = file;
    fetch(form.dataset.quality, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (a) {
        if (!input.files || input.files[0] !== asked) return; // a newer image was chosen
        if (!a || !a.available) { out.textContent = ""; return; }
        out.textContent = a.text;
        out.className = "quality " + (a.low ? "low" : "good");
      })
      .catch(function () { out.textContent = ""; });
  }
  // A finger marked missing or amputated takes no image.
  function mark(cell) {
    var marked = cell.querySelector("input[data-mark]:checked") !== null;
    var file = cell.querySelector("input[type=file]");
    cell.classList.toggle("marked", marked);
    if (file) {
      file.disabled = marked;
      if (marked && file.value) { file.value = ""; preview(file); }
    }
  }
  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t.matches("input[type=file][data-preview]")) preview(t);
    if (t.matches(".finger input[type=radio]")) mark(t.closest(".finger"));
  });
  document.querySelectorAll(".finger").forEach(mark);
  // Side-by-side images, and the drawings of minutiae over them, zoom on
  // click, Enter or Space.
  function zoom(el) { el.classList.toggle("zoomed"); }
  document.addEventListener("click", function (ev) {
    var z = ev.target.closest && ev.target.closest(".zoomable");
    if (z) zoom(z);
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.target.matches(".zoomable") && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); zoom(ev.target); }
  });
  // Pointing at a paired minutia, its line or its row of the table
  // highlights the pair on both prints.
  function highlight(ev, on) {
    var el = ev.target.closest && ev.target.closest("[data-pair]");
    var view = el && el.closest(".minutiae-view");
    if (!view) return;
    view.classList.toggle("highlighting", on);
    view.querySelectorAll('[data-pair="' + el.dataset.pair + '"]').forEach(function (x) { x.classList.toggle("hl", on); });
  }
  document.addEventListener("mouseover", function (ev) { highlight(ev, true); });
  document.addEventListener("mouseout", function (ev) { highlight(ev, false); });
  document.addEventListener("focusin", function (ev) { highlight(ev, true); });
  document.addEventListener("focusout", function (ev) { highlight(ev, false); });
  var errors = document.getElementById("enroll-errors");
  if (errors) errors.focus();
  var form = document.getElementById("enroll-form");
  if (form) form.addEventListener("submit", function () {
    var b = document.getElementById("enroll-submit");
    if (b) { b.setAttribute("aria-busy", "true"); b.classList.add("busy"); }
  });
})();
