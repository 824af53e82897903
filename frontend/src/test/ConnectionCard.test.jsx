import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import ConnectionCard, { describeStatus } from "../components/ConnectionCard.jsx";
import { envelope, jsonResponse, mockFetch } from "./http.js";

afterEach(() => vi.unstubAllGlobals());

const SETUP = {
  steps: [
    { step: 1, title: "Créer un projet Google Cloud", description: "Allez sur la console", url: "https://console.cloud.google.com" },
    { step: 2, title: "Activer l'API Google People", description: "Bibliothèque", url: null },
  ],
  required_files: ["data/google_credentials.json"],
  scopes: ["https://www.googleapis.com/auth/contacts"],
  missing: ["data/google_credentials.json (identifiants OAuth2) est absent"],
};

describe("describeStatus", () => {
  it("says connected with the account", () => {
    const d = describeStatus({ authenticated: true, service_available: true, account: "demo@example.com" });
    expect(d.label).toBe("Connecté");
    expect(d.text).toContain("demo@example.com");
  });
  it("says the credentials file is missing", () => {
    expect(describeStatus({ authenticated: false, credentials_file_exists: false }).label).toBe("Configuration incomplète");
  });
  it("says the token was revoked", () => {
    expect(describeStatus({ authenticated: false, credentials_file_exists: true, token_file_exists: true, token_revoked: true }).label).toBe(
      "Accès révoqué",
    );
  });
  it("says a legacy pickle token is ignored", () => {
    expect(describeStatus({ authenticated: false, credentials_file_exists: true, legacy_token_file_exists: true }).text).toContain("pickle");
  });
  it("says Google is unreachable", () => {
    expect(describeStatus({ authenticated: true, service_available: false }).label).toBe("Google injoignable");
  });
});

describe("ConnectionCard", () => {
  it("shows the numbered setup guide with what is missing, and no connect button that can work", () => {
    mockFetch(() => jsonResponse(500, {}));
    render(<ConnectionCard status={{ authenticated: false, credentials_file_exists: false }} setup={SETUP} onChanged={() => {}} />);
    expect(screen.getByText("Il manque sur cette installation :")).toBeInTheDocument();
    const steps = screen.getAllByRole("listitem").filter((li) => li.closest("ol"));
    expect(steps).toHaveLength(2);
    expect(screen.getByRole("button", { name: "Connecter Google" })).toBeDisabled();
  });

  it("sends the browser to Google's consent page", async () => {
    const assign = vi.fn();
    vi.stubGlobal("location", { ...window.location, assign });
    const calls = mockFetch(() =>
      jsonResponse(200, envelope({ authenticated: false, authorization_url: "http://127.0.0.1:9/o/oauth2/auth?x=1" })),
    );
    render(<ConnectionCard status={{ authenticated: false, credentials_file_exists: true }} setup={SETUP} onChanged={() => {}} />);
    await userEvent.click(screen.getByRole("button", { name: "Connecter Google" }));
    expect(calls[0].url).toBe("/api/google-contacts/auth");
    expect(assign).toHaveBeenCalledWith("http://127.0.0.1:9/o/oauth2/auth?x=1");
  });

  it("asks before disconnecting, then tells it is done", async () => {
    const changed = vi.fn();
    const calls = mockFetch(() => jsonResponse(200, envelope({ disconnected: true }, "Compte Google déconnecté")));
    render(<ConnectionCard status={{ authenticated: true, service_available: true }} setup={SETUP} onChanged={changed} />);
    await userEvent.click(screen.getByRole("button", { name: "Déconnecter Google" }));
    expect(screen.getByRole("dialog", { name: "Déconnecter Google ?" })).toBeInTheDocument();
    expect(calls).toHaveLength(0);
    await userEvent.click(screen.getAllByRole("button", { name: "Déconnecter Google" }).at(-1));
    expect(await screen.findByText("Compte Google déconnecté")).toBeInTheDocument();
    expect(calls[0].url).toBe("/api/google-contacts/disconnect");
    expect(changed).toHaveBeenCalled();
  });

  it("closes the confirmation with Escape", async () => {
    mockFetch(() => jsonResponse(500, {}));
    render(<ConnectionCard status={{ authenticated: true, service_available: true }} setup={SETUP} onChanged={() => {}} />);
    await userEvent.click(screen.getByRole("button", { name: "Déconnecter Google" }));
    await userEvent.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
  });
});
