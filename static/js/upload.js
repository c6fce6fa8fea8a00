// The upload page with an object store: files of the threshold or more go straight from the
// browser to the store. Each is hashed here (SHA-256, hash-wasm, read in slices so memory stays
// flat whatever its size), announced to the site (which applies the per-file and per-repository
// quotas and answers a presigned URL), PUT to the store with a progress bar, and then named in
// the commit form by its SHA-256; the site verifies it before committing. Smaller files still
// come inside the commit. Without this script (or without a store) every file comes inside it.
(function () {
  "use strict";

  var SLICE = 8 * 1024 * 1024;
  var form = document.querySelector("form[data-direct-upload]");
  if (!form || !window.hashwasm || !window.DataTransfer || !window.fetch) return;

  var input = form.querySelector("input[type=file][name=files]");
  var button = form.querySelector("button[type=submit]");
  var threshold = Number(form.dataset.threshold);
  var panel = document.getElementById("upload-progress-panel");
  var bar = document.getElementById("upload-progress");
  var label = document.getElementById("upload-progress-label");
  var text = document.getElementById("upload-progress-text");
  var refused = document.getElementById("upload-refused");
  document.getElementById("upload-large-note").hidden = false;
  var busy = false;

  function Refused(message) {
    this.message = message;
  }

  function size(bytes) {
    var units = ["bytes", "KB", "MB", "GB", "TB"];
    var i = 0;
    while (bytes >= 1024 && i < units.length - 1) {
      bytes /= 1024;
      i += 1;
    }
    return (i === 0 ? bytes : bytes.toFixed(1)) + " " + units[i];
  }

  function show(what, done, total) {
    panel.hidden = false;
    label.textContent = what;
    var percent = total ? Math.floor((done / total) * 100) : 100;
    bar.value = percent;
    text.textContent = size(done) + " of " + size(total) + " (" + percent + "%)";
  }

  async function sha256(file) {
    var hasher = await window.hashwasm.createSHA256();
    hasher.init();
    for (var start = 0; start < file.size; start += SLICE) {
      var slice = file.slice(start, Math.min(start + SLICE, file.size));
      hasher.update(new Uint8Array(await slice.arrayBuffer()));
      show("Checking " + file.name + " (SHA-256)", Math.min(start + SLICE, file.size), file.size);
    }
    return hasher.digest("hex");
  }

  async function announce(sha, file) {
    var body = new FormData();
    body.append("sha256", sha);
    body.append("size", String(file.size));
    var response = await fetch(form.dataset.directUpload, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": form.elements.csrfmiddlewaretoken.value },
    });
    var answer = null;
    try {
      answer = await response.json();
    } catch (error) {
      answer = null;
    }
    if (!response.ok) {
      throw new Refused(
        (answer && answer.error) ||
          "The site did not accept " + file.name + " (" + response.status + "). Nothing was uploaded."
      );
    }
    return answer;
  }

  function put(url, file) {
    return new Promise(function (resolve, reject) {
      var request = new XMLHttpRequest();
      request.open("PUT", url);
      request.upload.addEventListener("progress", function (event) {
        show("Uploading " + file.name, event.loaded, file.size);
      });
      request.addEventListener("load", function () {
        if (request.status >= 200 && request.status < 300) {
          show("Uploading " + file.name, file.size, file.size);
          resolve();
        } else {
          reject(new Refused(
            "The object store refused " + file.name + " (" + request.status + "). " +
            "Nothing was committed; try again."
          ));
        }
      });
      request.addEventListener("error", function () {
        reject(new Refused(
          "The upload of " + file.name + " to the object store broke off. " +
          "Nothing was committed; try again."
        ));
      });
      show("Uploading " + file.name, 0, file.size);
      request.send(file);
    });
  }

  function name(sha, file) {
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = "stored";
    field.value = sha + " " + file.name;
    form.appendChild(field);
  }

  async function send(files) {
    form.querySelectorAll("input[name=stored]").forEach(function (old) { old.remove(); });
    var small = new DataTransfer();
    for (var i = 0; i < files.length; i += 1) {
      var file = files[i];
      if (file.size < threshold) {
        small.items.add(file);
        continue;
      }
      var sha = await sha256(file);
      var answer = await announce(sha, file);
      if (!answer.stored) await put(answer.url, file);
      name(sha, file);
    }
    label.textContent = "Committing";
    text.textContent = "The site checks the uploaded files and commits them.";
    // The large files are in the store now; the commit carries the rest and their names.
    input.files = small.files;
    form.submit();
  }

  form.addEventListener("submit", function (event) {
    var files = Array.prototype.slice.call(input.files);
    if (busy) {
      event.preventDefault();
      return;
    }
    if (!files.some(function (file) { return file.size >= threshold; })) return;
    event.preventDefault();
    busy = true;
    button.disabled = true;
    refused.hidden = true;
    send(files).catch(function (error) {
      busy = false;
      button.disabled = false;
      panel.hidden = true;
      refused.textContent = error instanceof Refused
        ? error.message
        : "The upload stopped (" + error + "). Nothing was committed; try again.";
      refused.hidden = false;
    });
  });
})();
