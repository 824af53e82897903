import { describe, expect, it } from "vitest";
import { ApiError } from "../lib/api.js";
import { classifyError, explainError } from "../lib/errors.js";

describe("explainError", () => {
  const cases = [
    [new ApiError(0, "x", { code: "network" }), "network", "Connexion au serveur impossible"],
    [new ApiError(429, "Quota de l'API Google dépassé", { code: "quota", retryAfter: 45 }), "quota", "Quota Google atteint"],
    [new ApiError(409, "Google n'est pas connecté : lancez l'authentification", { code: "not_connected" }), "not_connected", "Google n'est pas connecté"],
    [new ApiError(409, "L'accès Google a été révoqué ou a expiré", { code: "revoked" }), "revoked", "Accès Google révoqué"],
    [new ApiError(409, "Synchronisation refusée : elle supprimerait trop de contacts.", { code: "mass_deletion" }), "breaker", "Synchronisation arrêtée par sécurité"],
    [new ApiError(409, "Une synchronisation est déjà en cours pour ce compte", { code: "busy" }), "busy", "Une synchronisation est déjà en cours"],
    [new ApiError(401, "Authentification requise."), "session", "Session expirée"],
    [new ApiError(503, "Google Contacts est momentanément indisponible", { code: "google_unavailable" }), "unavailable", "Service momentanément indisponible"],
  ];
  it.each(cases)("classifies %#", (err, kind, title) => {
    expect(classifyError(err)).toBe(kind);
    const info = explainError(err);
    expect(info.title).toBe(title);
    expect(info.action.length).toBeGreaterThan(10);
  });

  it("gives the quota's waiting time in words", () => {
    expect(explainError(new ApiError(429, "Quota", { retryAfter: 45 })).action).toContain("45 secondes");
    expect(explainError(new ApiError(429, "Quota", { retryAfter: 600 })).action).toContain("10 minutes");
  });
});
