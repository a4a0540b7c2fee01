// Autosave for closure forms: an enhancement only. Without JavaScript the "Save draft" button
// does the same job.
//
// Loaded as <script type="module"> (no inline script, so a strict Content-Security-Policy can
// forbid them). For each <form data-autosave-url>, every 5 seconds, if anything was typed since
// the last save, the form is posted to that URL. The server saves the draft only if nobody has
// saved it since the version this page holds (the hidden `expected_version`), and answers with
// the new version. The result is announced in the form's [data-autosave-status] live region.
// On a conflict autosave stops and says so; the typed text stays in the page.

const INTERVAL_MS = 5000;

function timeNow() {
  const now = new Date();
  return `${String(now.getHours()).padStart(2, "0")}:${String(now.getMinutes()).padStart(2, "0")}`;
}

function enhance(form) {
  const url = form.dataset.autosaveUrl;
  const status = form.querySelector("[data-autosave-status]");
  const version = form.querySelector('input[name="expected_version"]');
  let changed = false;
  let inFlight = null;
  let stopped = false;

  const say = (text) => {
    if (status) status.textContent = text;
  };

  const hidePrefillNote = (target) => {
    if (!target || !target.id) return;
    const note = form.querySelector(`[data-prefill-for="${CSS.escape(target.id)}"]`);
    if (note) note.hidden = true;
  };

  const markChanged = (event) => {
    changed = true;
    hidePrefillNote(event.target);
  };
  form.addEventListener("input", markChanged);
  form.addEventListener("change", markChanged);

  const save = async () => {
    if (!changed || inFlight || stopped) return;
    changed = false;
    const body = new FormData(form);
    inFlight = fetch(url, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { "X-Requested-With": "XMLHttpRequest", Accept: "application/json" },
    })
      .then(async (response) => {
        let data = {};
        try {
          data = await response.json();
        } catch {
          data = {};
        }
        if (response.ok && data.ok) {
          if (version && data.version != null) version.value = String(data.version);
          say(`Saved at ${data.saved_at || timeNow()}`);
        } else if (response.status === 409) {
          stopped = true;
          say(
            `Not saved: ${data.message || "this form was changed somewhere else."} ` +
              "Copy anything you need before you reload the page.",
          );
        } else {
          changed = true;
          say(data.message || "Not saved yet: use the Save draft button.");
        }
      })
      .catch(() => {
        changed = true;
        say("Not saved: the connection failed. Use the Save draft button when you are back online.");
      })
      .finally(() => {
        inFlight = null;
      });
    await inFlight;
  };

  const timer = window.setInterval(save, INTERVAL_MS);

  // A button press posts the page with the version it holds: let a save in progress finish
  // first, so the button's own save is not refused as a conflict with our own autosave.
  form.addEventListener("submit", (event) => {
    window.clearInterval(timer);
    if (!inFlight) return;
    event.preventDefault();
    const submitter = event.submitter;
    inFlight.then(() => form.requestSubmit(submitter || undefined));
  });
}

document.querySelectorAll("form[data-autosave-url]").forEach(enhance);
