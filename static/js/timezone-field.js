// Fills the create form's hidden time-zone field from the browser, so the start is read in the SME's own zone.
// Without JavaScript the field stays empty and the server reads the time as UTC (the page says so).
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
if (zone) {
  for (const field of document.querySelectorAll("[data-timezone-field]")) field.value = zone;
  for (const label of document.querySelectorAll("[data-timezone-name]")) label.textContent = zone;
}
