// The map of templates/_peta.html (Leaflet, served by this app). Without Leaflet or JavaScript nothing changes: the
// map stays hidden and the form is the address, kelurahan and coordinates fields. Mode "pilih" (the report form):
// a tap drops the pin, the pin can be dragged, "Gunakan lokasi saya" asks the phone, and the coordinates field
// follows the pin (and the pin the field). A point outside the city's bounds is refused here as the server would.
(function () {
  "use strict";
  var box = document.getElementById("peta");
  if (!box || !window.L) return;
  var bounds = JSON.parse(box.dataset.bounds);
  var city = L.latLngBounds(bounds);
  var point = box.dataset.point ? JSON.parse(box.dataset.point) : null;
  var choosing = box.dataset.mode === "pilih";
  var field = document.getElementById("koordinat");
  var message = document.getElementById("peta-pesan");
  var OUTSIDE = "Titik itu berada di luar Kota Pontianak; pilih titik di dalam kota.";
  // "lintang, bujur" as the server reads it (api/web/submit.py): -0.0263, 109.3425 or -0,0263 109,3425.
  var POINT = /^\s*(-?\d{1,3}(?:[.,]\d+)?)\s*(?:[,;]\s*|\s+)(-?\d{1,3}(?:[.,]\d+)?)\s*$/;

  box.hidden = false;
  var map = L.map("peta-kanvas", { maxBounds: city.pad(0.5), minZoom: 11 });
  L.tileLayer(box.dataset.tiles, { attribution: box.dataset.attribution, maxZoom: 19 }).addTo(map);
  var marker = null;

  function say(text) {
    if (message) message.textContent = text;
  }

  function show(latlng, zoom) {
    if (marker) {
      marker.setLatLng(latlng);
    } else {
      marker = L.marker(latlng, { draggable: choosing, keyboard: choosing, title: "Titik kejadian", alt: "Penanda titik kejadian" }).addTo(map);
      if (choosing) marker.on("dragend", function () { choose(marker.getLatLng(), false); });
    }
    if (zoom) map.setView(latlng, Math.max(map.getZoom() || 0, 16));
  }

  function choose(latlng, zoom) {
    if (!city.contains(latlng)) {
      say(OUTSIDE);
      if (marker && field && POINT.test(field.value)) {
        var kept = POINT.exec(field.value);
        marker.setLatLng([parseFloat(kept[1].replace(",", ".")), parseFloat(kept[2].replace(",", "."))]);
      }
      return;
    }
    say("");
    show(latlng, zoom);
    if (field) {
      field.value = latlng.lat.toFixed(6) + ", " + latlng.lng.toFixed(6);
      field.dispatchEvent(new Event("input", { bubbles: true })); // the nearby panel listens to the field
    }
  }

  var listed = box.dataset.points ? JSON.parse(box.dataset.points) : [];
  if (listed.length) {
    // The feed: one marker per report of the page; its popup names the report and links its tracking page.
    var group = [];
    listed.forEach(function (item) {
      var link = document.createElement("a");
      link.href = item.url;
      link.textContent = item.title;
      L.marker([item.lat, item.lon], { title: item.title, alt: item.title }).addTo(map).bindPopup(link);
      group.push([item.lat, item.lon]);
    });
    map.fitBounds(L.latLngBounds(group).pad(0.2), { maxZoom: 16 });
  } else if (point) {
    show(point, false);
    map.setView(point, 16);
  } else {
    map.fitBounds(city);
  }
  if (!choosing) return;

  map.on("click", function (event) { choose(event.latlng, false); });
  if (field) {
    field.addEventListener("change", function () {
      var typed = POINT.exec(field.value);
      if (!typed) return;
      var latlng = L.latLng(parseFloat(typed[1].replace(",", ".")), parseFloat(typed[2].replace(",", ".")));
      if (city.contains(latlng)) {
        say("");
        show(latlng, true);
      } else {
        say(OUTSIDE);
      }
    });
    if (POINT.test(field.value)) field.dispatchEvent(new Event("change"));
  }
  var mine = document.getElementById("lokasi-saya");
  if (mine) {
    if (!navigator.geolocation) {
      mine.hidden = true;
    } else {
      mine.addEventListener("click", function () {
        say("Mencari lokasi Anda…");
        navigator.geolocation.getCurrentPosition(
          function (found) { choose(L.latLng(found.coords.latitude, found.coords.longitude), true); },
          function () { say("Lokasi Anda tidak dapat dibaca; ketuk peta atau isi alamat."); },
          { enableHighAccuracy: true, timeout: 15000 }
        );
      });
    }
  }
})();
