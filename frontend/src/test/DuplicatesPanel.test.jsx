import { afterEach, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import DuplicatesPanel from "../components/DuplicatesPanel.jsx";
import { envelope, failure, jsonResponse, mockFetch } from "./http.js";

afterEach(() => vi.unstubAllGlobals());

const GROUP = {
  id: 1,
  email: "zoe@exemple.fr",
  reason: "contacts_same_email",
  client_ids: [3],
  resource_names: ["people/c11"],
  status: "open",
  records: [
    { side: "atarys", client_id: 3, name: "LEFÈVRE Zoé", fields: { nom: "Lefèvre", prenom: "Zoé", email: "zoe@exemple.fr", telephone: "+33612345678" } },
    { side: "google", resource_name: "people/c11", name: "LEFEVRE Zoé", fields: { nom: "Lefevre", prenom: "Zoé", email: "zoe@exemple.fr", telephone: null } },
  ],
};

function api(extra = () => null) {
  return mockFetch((call) => {
    const answer = extra(call);
    if (answer) return answer;
    if (call.url.startsWith("/api/google-contacts/duplicates?"))
      return jsonResponse(200, envelope([GROUP], "1 doublon(s) détecté(s)", { pagination: { limit: 10, offset: 0, total: 1 } }));
    return jsonResponse(404, failure("?"));
  });
}

it("shows the records side by side by name, differences highlighted, never ids", async () => {
  api();
  render(<DuplicatesPanel refreshKey={0} />);
  const group = await screen.findByTestId("duplicate");
  expect(within(group).getByText("Même adresse e-mail : zoe@exemple.fr")).toBeInTheDocument();
  expect(within(group).getByText("LEFÈVRE Zoé")).toBeInTheDocument();
  expect(within(group).getByText("LEFEVRE Zoé")).toBeInTheDocument();
  expect(within(group).getByText("Nom").closest("tr")).toHaveAttribute("data-differs", "true");
  expect(within(group).getByText("Prénom").closest("tr")).not.toHaveAttribute("data-differs");
  expect(within(group).getByText("06 12 34 56 78")).toBeInTheDocument();
  expect(group).not.toHaveTextContent("people/c");
  expect(group).not.toHaveTextContent("n° ");
});

it("« Ce ne sont pas des doublons » dismisses the group", async () => {
  const calls = api(({ method }) => (method === "POST" ? jsonResponse(200, envelope({ id: 1 }, "C'est noté : ces fiches ne seront plus proposées comme doublons")) : null));
  render(<DuplicatesPanel refreshKey={0} />);
  await userEvent.click(await screen.findByRole("button", { name: "Ce ne sont pas des doublons" }));
  expect(await screen.findByText(/ne seront plus proposées/)).toBeInTheDocument();
  expect(calls.find((c) => c.method === "POST").url).toBe("/api/google-contacts/duplicates/1/dismiss");
});

it("merges with the chosen values, and hides Fusionner when the server lacks it", async () => {
  let mergeAnswer = jsonResponse(200, envelope({}, "Fiches fusionnées"));
  const calls = api(({ method, url }) => (method === "POST" && url.endsWith("/merge") ? mergeAnswer : null));
  render(<DuplicatesPanel refreshKey={0} />);
  await userEvent.click(await screen.findByRole("button", { name: "Fusionner…" }));
  const dialog = screen.getByRole("dialog", { name: "Fusionner ces fiches" });
  await userEvent.click(within(dialog).getByRole("radio", { name: "Lefevre" }));
  await userEvent.click(within(dialog).getByRole("button", { name: "Fusionner" }));
  expect(await screen.findByText("Fiches fusionnées")).toBeInTheDocument();
  const sent = calls.find((c) => c.url.endsWith("/merge")).body;
  expect(sent.keep_client_id).toBe(3);
  expect(sent.keep_resource_name).toBeNull();
  expect(sent.values.nom).toBe("Lefevre");
  expect(sent.values.telephone).toBe("+33612345678");

  mergeAnswer = jsonResponse(501, failure("Pas encore disponible."));
  await userEvent.click(await screen.findByRole("button", { name: "Fusionner…" }));
  await userEvent.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Fusionner" }));
  expect(await screen.findByText(/fusion n'est pas encore disponible/)).toBeInTheDocument();
  expect(screen.queryByRole("button", { name: "Fusionner…" })).toBeNull();
});
