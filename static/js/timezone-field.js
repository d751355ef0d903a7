// Fills hidden time-zone fields from the browser: the create form's (the start is read in the SME's own zone;
// without JavaScript the server reads it as UTC, the page says so), and sign-up's and claim's (e-mails then show
// times in the person's own zone; without JavaScript they show UTC and the expert's zone).
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
if (zone) {
  for (const field of document.querySelectorAll("[data-timezone-field]")) field.value = zone;
  for (const label of document.querySelectorAll("[data-timezone-name]")) label.textContent = zone;
}
