// Turn an ApiError into words for office staff: what happened and what to do next.

function formatDelay(seconds) {
  if (seconds === null || seconds === undefined) return null;
  if (seconds < 60) return `${seconds} seconde${seconds > 1 ? "s" : ""}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes > 1 ? "s" : ""}`;
}

function text(err) {
  return `${err.code || ""} ${err.message || ""}`.toLowerCase();
}

/** The kind of problem: network, session, not_connected, revoked, quota, breaker, other. */
export function classifyError(err) {
  if (!err) return "other";
  const t = text(err);
  if (err.status === 0 || err.code === "network") return "network";
  if (err.code === "busy" || t.includes("déjà en cours")) return "busy";
  if (err.status === 429 || t.includes("quota")) return "quota";
  if (
    t.includes("revoked") ||
    t.includes("révoqu") ||
    t.includes("invalid_grant") ||
    t.includes("google_permission") ||
    t.includes("google_auth")
  ) {
    return "revoked";
  }
  if (
    t.includes("mass_deletion") ||
    t.includes("breaker") ||
    t.includes("suppression massive") ||
    t.includes("suppressions massives") ||
    t.includes("supprimerait trop") ||
    (err.data && typeof err.data === "object" && (err.data.breaker || err.data.force_required))
  ) {
    return "breaker";
  }
  if (
    t.includes("not_connected") ||
    t.includes("not_authenticated") ||
    t.includes("non connecté") ||
    t.includes("pas connecté")
  ) {
    return "not_connected";
  }
  if (err.status === 401) return "session";
  if (err.status === 403) return "forbidden";
  if (err.status === 503 || err.status === 502 || t.includes("google_unavailable")) return "unavailable";
  return "other";
}

/** `{kind, title, detail, action}` in French for an error. */
export function explainError(err) {
  const kind = classifyError(err);
  const server = err && err.message ? err.message : "";
  switch (kind) {
    case "network":
      return {
        kind,
        title: "Connexion au serveur impossible",
        detail: "Le serveur ATARYS ne répond pas : le réseau est coupé ou le serveur est arrêté.",
        action: "Vérifiez votre connexion, puis réessayez dans un instant.",
      };
    case "quota": {
      const delay = formatDelay(err.retryAfter);
      return {
        kind,
        title: "Quota Google atteint",
        detail: "Google limite le nombre de requêtes : la limite est atteinte pour le moment.",
        action: delay
          ? `Réessayez dans ${delay}. Rien n'a été perdu.`
          : "Réessayez un peu plus tard. Rien n'a été perdu.",
      };
    }
    case "revoked":
      return {
        kind,
        title: "Accès Google révoqué",
        detail: "Google a retiré l'autorisation donnée à ATARYS (mot de passe changé ou accès supprimé).",
        action: "Cliquez sur « Connecter Google » pour autoriser ATARYS à nouveau.",
      };
    case "not_connected":
      return {
        kind,
        title: "Google n'est pas connecté",
        detail: "ATARYS n'a pas encore l'autorisation d'accéder à vos contacts Google.",
        action: "Cliquez sur « Connecter Google » dans la carte Connexion, puis réessayez.",
      };
    case "breaker":
      return {
        kind,
        title: "Synchronisation arrêtée par sécurité",
        detail:
          server ||
          "Cette synchronisation supprimerait un grand nombre de contacts d'un coup ; elle a été bloquée.",
        action:
          "Vérifiez d'abord avec « Aperçu » que ces suppressions sont voulues. Si c'est le cas, forcez la synchronisation.",
      };
    case "busy":
      return {
        kind,
        title: "Une synchronisation est déjà en cours",
        detail: "Une synchronisation travaille déjà sur le compte Google : sa progression s'affiche dans la carte Synchronisation.",
        action: "Attendez qu'elle se termine : son résultat s'affichera ; relancez ensuite si besoin.",
      };
    case "session":
      return {
        kind,
        title: "Session expirée",
        detail: "Vous avez été déconnecté d'ATARYS.",
        action: "Reconnectez-vous pour continuer.",
      };
    case "forbidden":
      return {
        kind,
        title: "Action refusée",
        detail: server || "Le serveur a refusé cette action.",
        action: "Rechargez la page puis réessayez ; si cela persiste, reconnectez-vous.",
      };
    case "unavailable":
      return {
        kind,
        title: "Service momentanément indisponible",
        detail: server || "Google ou le serveur ne répond pas pour l'instant.",
        action: "Réessayez dans quelques minutes.",
      };
    default:
      return {
        kind,
        title: "Une erreur est survenue",
        detail: server || "Erreur inattendue.",
        action: "Réessayez ; si le problème continue, contactez l'administrateur.",
      };
  }
}
