// "Use my location": the browser gives WGS-84; the server converts it to GCJ-02 (coord=wgs84).
(function () {
  var button = document.getElementById("use-gps");
  var form = document.getElementById("locate-form");
  if (!button || !form || !navigator.geolocation) return;
  var status = document.getElementById("gps-status");
  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = button.dataset.waiting || "正在定位…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.elements.lat.value = pos.coords.latitude.toFixed(6);
      form.elements.lng.value = pos.coords.longitude.toFixed(6);
      form.elements.coord.value = "wgs84";
      form.elements.district.value = "";
      form.submit();
    }, function () {
      status.textContent = button.dataset.failed || "无法获取位置，请选择所在的区。";
    }, {enableHighAccuracy: false, timeout: 10000, maximumAge: 600000});
  });
})();
