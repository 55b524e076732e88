/* LAPOR! Kota Pontianak, the report form with JavaScript (progressive enhancement of a plain HTML form):
   each chosen photo is shrunk in the browser (longest side 2048 px, JPEG 0.75) before it is sent, and the upload
   shows its progress. Without JavaScript, or in a browser that lacks what this needs, the form posts as it is.
   Served by the app itself under the page's policy (script-src 'self', connect-src 'self'); no inline code. */
(function () {
  "use strict";

  var LONGEST_SIDE = 2048;
  /* At 750 kbit/s up every 100 KB costs a second: at 0.75 three detailed 12 MP photos take about 13 s to send, at
     0.85 about 18 s (docs/benchmarks.md). FixMyStreet's offline form sends 2048 px at 0.6. */
  var QUALITY = 0.75;
  var SHRINKABLE = /^image\/(jpeg|png|webp)$/;

  function capable() {
    return Boolean(window.FormData && window.XMLHttpRequest && window.createImageBitmap && window.Promise &&
      window.HTMLCanvasElement && HTMLCanvasElement.prototype.toBlob && window.DOMParser);
  }

  function jpegName(name) {
    var base = (name || "foto").replace(/\.[^.]*$/, "");
    return (base || "foto") + ".jpg";
  }

  /* One photo at most LONGEST_SIDE px on its longest side, as a JPEG; the original when it is already that small,
     when shrinking would not make it lighter, or when this browser cannot read it (the server then decides). */
  function shrink(file) {
    if (!SHRINKABLE.test(file.type)) {
      return Promise.resolve(file);
    }
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var scale = Math.min(1, LONGEST_SIDE / Math.max(bitmap.width, bitmap.height));
      if (scale === 1) {
        bitmap.close();
        return file;
      }
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      var context = canvas.getContext("2d");
      context.fillStyle = "#fff"; /* a transparent PNG becomes a JPEG on white, not on black */
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.imageSmoothingEnabled = true;
      context.imageSmoothingQuality = "high";
      context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          canvas.width = canvas.height = 0; /* the pixels are let go at once, before the next photo */
          if (!blob || blob.size >= file.size) {
            resolve(file);
            return;
          }
          resolve(new File([blob], jpegName(file.name), { type: "image/jpeg", lastModified: file.lastModified }));
        }, "image/jpeg", QUALITY);
      });
    }).catch(function () {
      return file;
    });
  }

  /* The photos one after the other: a phone holds one decoded photo at a time. */
  function shrinkAll(files, onEach) {
    var shrunk = [];
    return files.reduce(function (previous, file, index) {
      return previous.then(function () {
        onEach(index);
        return shrink(file).then(function (result) { shrunk.push(result); });
      });
    }, Promise.resolve()).then(function () { return shrunk; });
  }

  function megabytes(bytes) {
    return (bytes / (1024 * 1024)).toLocaleString("id-ID", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  }

  function init(form) {
    var input = form.querySelector("input[type=file][name=photos]");
    var panel = form.querySelector(".kemajuan");
    if (!input || !panel) {
      return;
    }
    var bar = panel.querySelector("progress");
    var words = panel.querySelector(".kemajuan-keterangan");
    var announcer = panel.querySelector(".pembaca-layar");
    /* The form's own send button: the nearby panel's buttons send it elsewhere (formaction) and are left alone. */
    var button = form.querySelector("button[type=submit]:not([formaction])");

    /* The bar and its words follow every step; screen readers hear each stage and a quarter at a time. */
    function announce(text) {
      announcer.textContent = text;
    }

    function say(text, value) {
      panel.hidden = false;
      words.textContent = text;
      announce(text);
      if (value === undefined) {
        bar.removeAttribute("value"); /* busy, no figure yet */
      } else {
        bar.value = value;
      }
    }

    function photoError(message) {
      var old = form.querySelector("#galat-photos");
      if (old) {
        old.remove();
      }
      var error = document.createElement("p");
      error.className = "galat-isian";
      error.id = "galat-photos";
      error.setAttribute("role", "alert");
      error.textContent = message;
      input.insertAdjacentElement("afterend", error);
      panel.hidden = true;
      button.disabled = false;
    }

    /* A refusal comes back as the form page with its messages next to the fields: shown in place of this one. */
    function showPage(page) {
      var main = page.querySelector("main");
      if (!main) {
        photoError("Kiriman tidak dapat diproses. Silakan coba lagi.");
        return;
      }
      document.title = page.title;
      var current = document.querySelector("main");
      current.replaceWith(document.importNode(main, true));
      var next = document.querySelector("main form[action='/lapor']");
      if (next) {
        init(next);
      }
      var notice = document.querySelector("main [role=alert]");
      if (notice) {
        notice.setAttribute("tabindex", "-1");
        notice.focus();
      }
    }

    function send(photos) {
      var data = new FormData(form);
      data.delete("photos");
      photos.forEach(function (photo) { data.append("photos", photo, photo.name); });
      var total = photos.reduce(function (sum, photo) { return sum + photo.size; }, 0);
      var request = new XMLHttpRequest();
      var spoken = -1;
      request.open("POST", form.action);
      request.responseType = "document";
      request.upload.addEventListener("progress", function (event) {
        var size = event.lengthComputable ? event.total : total;
        var percent = size ? Math.min(100, Math.round(event.loaded * 100 / size)) : 0;
        bar.value = percent;
        words.textContent = "Mengunggah " + percent + "% (" + megabytes(event.loaded) + " dari " + megabytes(size) +
          " MB)";
        if (Math.floor(percent / 25) !== spoken) {
          spoken = Math.floor(percent / 25);
          announce("Mengunggah " + percent + "%");
        }
      });
      request.upload.addEventListener("load", function () {
        say("Foto terkirim, menunggu jawaban server…", 100);
      });
      request.addEventListener("load", function () {
        var landed = new URL(request.responseURL || form.action, window.location.href);
        if (landed.pathname !== new URL(form.action, window.location.href).pathname) {
          say("Laporan terkirim. Membuka halaman laporan…", 100);
          window.location.assign(landed.href); /* the tracking page (or the sign-in page of an ended session) */
        } else if (request.status === 413) {
          photoError("Kiriman terlalu besar. Kurangi jumlah foto, lalu kirim lagi.");
        } else if (request.response && request.response.querySelector) {
          showPage(request.response);
        } else {
          photoError("Kiriman tidak dapat diproses. Silakan coba lagi.");
        }
      });
      request.addEventListener("error", function () {
        photoError("Pengiriman terputus. Periksa sambungan internet Anda, lalu kirim lagi.");
      });
      request.addEventListener("timeout", function () {
        photoError("Pengiriman terlalu lama. Periksa sambungan internet Anda, lalu kirim lagi.");
      });
      say("Mengunggah 0% (0,0 dari " + megabytes(total) + " MB)", 0);
      request.send(data);
    }

    form.addEventListener("submit", function (event) {
      var by = event.submitter;
      if (by && by.hasAttribute("formaction")) {
        return; /* "Saya juga mengalami", "Cek laporan serupa": the browser posts them where they say */
      }
      event.preventDefault();
      button.disabled = true; /* one submission at a time */
      var stale = form.querySelector("#galat-photos[role=alert]"); /* this script's message of the last try */
      if (stale) {
        stale.remove();
      }
      var files = Array.prototype.slice.call(input.files || []);
      shrinkAll(files, function (index) {
        say("Memperkecil foto " + (index + 1) + " dari " + files.length + "…");
      }).then(send, function () {
        send(files);
      });
    });
  }

  if (!capable()) {
    return;
  }
  var form = document.querySelector("main form[action='/lapor']");
  if (form) {
    init(form);
  }
}());
