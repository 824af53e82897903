import { afterEach, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import SettingsPanel from "../components/SettingsPanel.jsx";
import { envelope, failure, jsonResponse, mockFetch } from "./http.js";

afterEach(() => vi.unstubAllGlobals());

const SETTINGS = {
  account: "demo@example.com",
  conflict_policy: "newest",
  google_deletions: "propagate",
  atarys_deletions: "propagate",
  import_scope: "all",
  auto_sync_minutes: 60,
  phone_region: "FR",
  breaker_ratio: 0.2,
  breaker_min: 10,
  quota_per_minute: null,
};

it("edits the settings in words and sends only what the API accepts", async () => {
  const calls = mockFetch(({ method, body }) =>
    method === "PUT" ? jsonResponse(200, envelope({ ...SETTINGS, ...body }, "Paramètres enregistrés")) : jsonResponse(200, envelope(SETTINGS)),
  );
  render(<SettingsPanel />);
  await userEvent.selectOptions(await screen.findByLabelText("En cas de conflit"), "manual");
  await userEvent.selectOptions(screen.getByLabelText("Contact supprimé dans Google"), "unlink");
  const minutes = screen.getByLabelText("Synchronisation automatique, en minutes");
  await userEvent.clear(minutes);
  await userEvent.type(minutes, "15");
  await userEvent.click(screen.getByRole("button", { name: "Enregistrer les réglages" }));
  expect(await screen.findByText("Réglages enregistrés.")).toBeInTheDocument();
  expect(calls.at(-1).body).toEqual({
    conflict_policy: "manual",
    google_deletions: "unlink",
    atarys_deletions: "propagate",
    import_scope: "all",
    auto_sync_minutes: 15,
    phone_region: "FR",
  });
  expect(screen.getByText(/20 % des contacts/)).toBeInTheDocument();
});

it("shows a refused value under its input", async () => {
  mockFetch(({ method }) =>
    method === "PUT"
      ? jsonResponse(422, failure("Données invalides.", null, { errors: { auto_sync_minutes: "Au plus 1440 minutes." } }))
      : jsonResponse(200, envelope(SETTINGS)),
  );
  render(<SettingsPanel />);
  const minutes = await screen.findByLabelText("Synchronisation automatique, en minutes");
  await userEvent.clear(minutes);
  await userEvent.type(minutes, "5000");
  await userEvent.click(screen.getByRole("button", { name: "Enregistrer les réglages" }));
  expect(await screen.findByText("Au plus 1440 minutes.")).toBeInTheDocument();
  expect(minutes).toHaveAttribute("aria-invalid", "true");
  expect(minutes).toHaveAccessibleDescription(/^Au plus 1440 minutes\./);
});

it("offers the phones' country by name, and sends its code", async () => {
  const calls = mockFetch(({ method, body }) => jsonResponse(200, envelope(method === "PUT" ? { ...SETTINGS, ...body } : { ...SETTINGS, phone_region: "be" })));
  render(<SettingsPanel />);
  const region = await screen.findByLabelText("Pays des numéros écrits sans indicatif");
  expect(region).toHaveDisplayValue("Belgique");
  expect(region).toHaveAccessibleDescription(/sans \+33, est lu comme un numéro de ce pays/);
  await userEvent.selectOptions(region, "Suisse");
  await userEvent.click(screen.getByRole("button", { name: "Enregistrer les réglages" }));
  expect(await screen.findByText("Réglages enregistrés.")).toBeInTheDocument();
  expect(calls.at(-1).body.phone_region).toBe("CH");
});
