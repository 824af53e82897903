import { afterEach, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/react";
import DuplicatesPanel from "../components/DuplicatesPanel.jsx";
import { envelope, jsonResponse, mockFetch } from "./http.js";

afterEach(() => vi.unstubAllGlobals());

it("lists each duplicate with links to every record, ATARYS and Google", async () => {
  mockFetch(() =>
    jsonResponse(
      200,
      envelope([
        { id: 1, email: "jean@exemple.fr", reason: "same_email", client_ids: [3, 7], resource_names: ["people/c11"], status: "open" },
      ]),
    ),
  );
  render(<DuplicatesPanel refreshKey={0} />);
  expect(await screen.findByText("Même adresse e-mail : jean@exemple.fr")).toBeInTheDocument();
  expect(screen.getByRole("link", { name: "Client n° 3" })).toHaveAttribute("href", "/clients?id=3");
  expect(screen.getByRole("link", { name: "Client n° 7" })).toHaveAttribute("href", "/clients?id=7");
  expect(screen.getByRole("link", { name: /^contact/ })).toHaveAttribute("href", "https://contacts.google.com/person/c11");
});
