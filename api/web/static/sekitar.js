// "Laporan serupa di sekitar" as the citizen fills the report form (templates/_sekitar.html): once a category and a
// place (coordinates, else the kelurahan) are chosen, ask GET /reports/nearby and show the same list the server
// draws without JavaScript. Text goes in with textContent only; every button is a submit button of the report form.
(function () {
  "use strict";
  var panel = document.getElementById("sekitar");
  var form = panel && panel.closest("form");
  if (!form) return;
  var result = document.getElementById("sekitar-hasil");
  var check = document.getElementById("cek-sekitar");
  var fields = form.elements;
  // "lintang, bujur" as the server reads it (api/web/submit.py): -0.0263, 109.3425 or -0,0263 109,3425.
  var POINT = /^\s*(-?\d{1,3}(?:[.,]\d+)?)\s*(?:[,;]\s*|\s+)(-?\d{1,3}(?:[.,]\d+)?)\s*$/;
  var DATE = { day: "numeric", month: "long", year: "numeric", timeZone: "Asia/Pontianak" };
  var timer = null;
  var asked = "";

  function query() {
    var category = fields.category.value;
    var kelurahan = (fields.lokasi.value.split("/")[1] || "");
    var point = POINT.exec(fields.koordinat ? fields.koordinat.value : "");
    if (!category || !(kelurahan || point)) return null;
    var params = new URLSearchParams({ category: category, limit: "5" });
    if (point) {
      params.set("lat", point[1].replace(",", "."));
      params.set("lon", point[2].replace(",", "."));
    }
    if (kelurahan) params.set("kelurahan", kelurahan);
    return params.toString();
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function say(text) {
    result.replaceChildren(element("p", "petunjuk", text));
  }

  function item(report) {
    var li = element("li");
    if (report.photo_url) {
      var img = element("img");
      img.src = report.photo_url;
      img.alt = "Foto laporan " + report.title;
      img.width = 72;
      img.height = 72;
      li.append(img);
    } else {
      var blank = element("span", "tanpa-foto");
      blank.setAttribute("aria-hidden", "true");
      li.append(blank);
    }
    var body = element("div");
    var link = element("a");
    link.href = "/lacak/" + encodeURIComponent(report.tracking_id);
    link.target = "_blank";
    link.rel = "noopener";
    link.append(element("strong", "", report.title));
    var status = element("span", "status status-" + report.status.code.toLowerCase(), report.status.label);
    var where = report.distance_m === null ? "di kelurahan yang sama" : "± " + report.distance_m + " m dari titik Anda";
    var when = new Date(report.created_at).toLocaleDateString("id-ID", DATE);
    var small = element("small", "", where + " · dilaporkan " + when + " · " + report.support_count + " warga juga mengalami");
    var button = element("button", "kedua", "Saya juga mengalami");
    button.type = "submit";
    button.formAction = "/lacak/" + encodeURIComponent(report.tracking_id) + "/dukung";
    button.formEnctype = "application/x-www-form-urlencoded";
    button.formNoValidate = true;
    body.append(link, status, small, button);
    li.append(body);
    return li;
  }

  function show(page) {
    if (!page.items.length) {
      var where = page.radius_m ? "dalam radius " + page.radius_m + " m" : "di kelurahan ini";
      result.replaceChildren(element("p", "", "Belum ada laporan terbuka berkategori sama " + where + ". Silakan lanjutkan laporan Anda."));
      return;
    }
    var list = element("ul", "sekitar-daftar");
    page.items.forEach(function (report) { list.append(item(report)); });
    result.replaceChildren(list);
  }

  function ask() {
    var wanted = query();
    if (wanted === asked) return;
    asked = wanted;
    if (wanted === null) {
      result.replaceChildren();
      return;
    }
    fetch("/reports/nearby?" + wanted, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (answer) {
        if (wanted !== asked) return;
        if (answer.status === 429) return say("Terlalu sering memeriksa laporan di sekitar. Silakan coba lagi beberapa menit lagi.");
        if (!answer.ok) return say("Titik koordinat di luar Kota Pontianak atau belum lengkap: periksa kembali isiannya.");
        return answer.json().then(show);
      })
      .catch(function () { if (wanted === asked) say("Laporan di sekitar belum dapat dimuat. Periksa sambungan Anda."); });
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(ask, 400);
  }

  if (check) check.remove();  // the list follows the form by itself
  // Enter in a field sends the report, as on any form, not the first button of this list (which comes before it).
  var NOT_TEXT = ["checkbox", "radio", "file", "submit", "button", "reset", "image"];
  var send = form.querySelector(":scope > button[type=submit]");
  form.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key !== "Enter" || !send || target.tagName !== "INPUT" || NOT_TEXT.indexOf(target.type) >= 0) return;
    event.preventDefault();
    form.requestSubmit(send);
  });
  ["category", "lokasi", "koordinat"].forEach(function (name) {
    var field = fields[name];
    if (!field) return;
    field.addEventListener("change", soon);
    field.addEventListener("input", soon);
  });
  if (!result.children.length) ask();
})();
