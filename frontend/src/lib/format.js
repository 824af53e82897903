// Display helpers (French formats).

const dateTime = new Intl.DateTimeFormat("fr-FR", { dateStyle: "short", timeStyle: "short" });
const dayMonth = new Intl.DateTimeFormat("fr-FR", { day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" });

export function formatShortDate(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : dayMonth.format(date);
}

export function formatDate(value) {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : dateTime.format(date);
}

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1).replace(".", ",")} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return `${m} min ${s} s`;
}

export const FIELD_LABELS = {
  nom: "Nom",
  prenom: "Prénom",
  email: "E-mail",
  telephone: "Téléphone",
  adresse: "Adresse",
  ville: "Ville",
  code_postal: "Code postal",
  entreprise: "Entreprise",
  fonction: "Fonction",
};

export function fieldLabel(name) {
  return FIELD_LABELS[name] || name;
}

export function showValue(value) {
  if (value === null || value === undefined || value === "") return "(vide)";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** A person as the office reads it everywhere: "LEFÈVRE Zoé" (never an id). */
export function clientName(c) {
  if (!c) return "";
  if (c.name && !c.nom && !c.prenom) return c.name;
  return [c.nom ? String(c.nom).toLocaleUpperCase("fr-FR") : null, c.prenom].filter(Boolean).join(" ") || c.entreprise || c.email || c.name || "";
}

// National prefixes of the regions people most likely configure (calling code, trunk prefix).
const REGIONS = { FR: ["33", "0"], BE: ["32", "0"], CH: ["41", "0"], LU: ["352", ""], DE: ["49", "0"], ES: ["34", ""], IT: ["39", ""], GB: ["44", "0"] };

function pairs(digits) {
  return digits.replace(/(\d{2})(?=\d)/g, "$1 ");
}

/**
 * A stored E.164 phone as people write it: national for the configured region
 * ("06 12 34 56 78"), international otherwise ("+32 470 12 34 56").
 */
export function formatPhone(value, region = "FR") {
  if (!value) return "";
  const raw = String(value);
  const compact = raw.replace(/[\s.\-()/]/g, "");
  const [code0, trunk0] = REGIONS[String(region || "FR").toUpperCase()] || [];
  // A number typed nationally in Google ("07.38.25.59.63"): read with the region.
  const text = code0 && trunk0 && /^0\d{9}$/.test(compact) ? `+${code0}${compact.slice(1)}` : compact;
  if (!/^\+\d{6,15}$/.test(text)) return raw;
  const [code, trunk] = REGIONS[String(region || "FR").toUpperCase()] || [];
  if (code && text.startsWith(`+${code}`)) {
    const national = `${trunk}${text.slice(code.length + 1)}`;
    return national.length === 10 ? pairs(national) : national.replace(/(\d{3})(?=\d)/g, "$1 ");
  }
  const known = Object.values(REGIONS).map(([c]) => c).find((c) => text.startsWith(`+${c}`));
  const cc = known || text.slice(1, 3);
  const rest = text.slice(cc.length + 1);
  const grouped = rest.length % 2 ? `${rest[0]} ${pairs(rest.slice(1))}` : pairs(rest);
  return `+${cc} ${grouped}`;
}

/** A field's value as people read it: phones in the national format, « (vide) » for nothing. */
export function fieldValue(field, value, region = "FR") {
  if (field === "telephone" && value) return formatPhone(value, region);
  return showValue(value);
}
