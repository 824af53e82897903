import { afterEach, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import ConflictsPanel from "../components/ConflictsPanel.jsx";
import { envelope, jsonResponse, mockFetch } from "./http.js";

afterEach(() => vi.unstubAllGlobals());

const CONFLICTS = [
  { id: 5, client_id: 41, resource_name: "people/c1", field: "entreprise", atarys_value: "Côté ATARYS SAS", google_value: "Côté Google SARL", status: "open" },
  { id: 6, client_id: 41, resource_name: "people/c1", field: "telephone", atarys_value: "+33611111111", google_value: "+33622222222", status: "open" },
];

function api() {
  return mockFetch(({ method, url }) => {
    if (url === "/api/google-contacts/conflicts") return jsonResponse(200, envelope(CONFLICTS));
    if (url === "/api/clients/41") return jsonResponse(200, envelope({ id: 41, nom: "Zéphyrin", prenom: "Adèle" }));
    if (method === "POST") return jsonResponse(200, envelope({ status: "resolved" }, "Conflit résolu"));
    return jsonResponse(404, { success: false, message: "?" });
  });
}

it("shows both values side by side per field, grouped per client, with the client's name", async () => {
  api();
  render(<ConflictsPanel refreshKey={0} />);
  const group = await screen.findByRole("form", { name: "Conflit : ZÉPHYRIN Adèle" });
  for (const text of ["Côté ATARYS SAS", "Côté Google SARL", "06 11 11 11 11", "06 22 22 22 22"]) {
    expect(within(group).getByText(text)).toBeInTheDocument();
  }
  expect(within(group).getByRole("button", { name: "Régler ce conflit" })).toBeDisabled();
});

it("sends one choice per field: a side, or a typed value", async () => {
  const calls = api();
  const resolved = vi.fn();
  render(<ConflictsPanel refreshKey={0} onResolved={resolved} />);
  const group = await screen.findByRole("form", { name: "Conflit : ZÉPHYRIN Adèle" });
  const company = within(group).getByRole("group", { name: "Entreprise" });
  await userEvent.click(within(company).getByRole("radio", { name: /Valeur Google/ }));
  const phone = within(group).getByRole("group", { name: "Téléphone" });
  await userEvent.type(within(phone).getByLabelText("Autre valeur pour Téléphone"), "06 33 33 33 33");
  await userEvent.click(within(group).getByRole("button", { name: "Régler ce conflit" }));
  await screen.findByText(/conflit réglé/);
  const posts = calls.filter((c) => c.method === "POST");
  expect(posts.map((c) => [c.url, c.body])).toEqual([
    ["/api/google-contacts/conflicts/5/resolve", { choice: "google" }],
    ["/api/google-contacts/conflicts/6/resolve", { choice: "value", value: "06 33 33 33 33" }],
  ]);
  expect(resolved).toHaveBeenCalled();
  expect(screen.getByText("Aucun conflit à régler.")).toBeInTheDocument();
});
