import { useCallback, useEffect, useState } from "react";
import { api, paths } from "../lib/api.js";
import { navigate, useLocation } from "../lib/router.jsx";
import ConnectionCard from "../components/ConnectionCard.jsx";
import ConflictsPanel from "../components/ConflictsPanel.jsx";
import DuplicatesPanel from "../components/DuplicatesPanel.jsx";
import FirstSyncPanel from "../components/FirstSyncPanel.jsx";
import { AppliedNotice } from "../components/Plan.jsx";
import TrashPanel from "../components/TrashPanel.jsx";
import RunsHistory from "../components/RunsHistory.jsx";
import SettingsPanel from "../components/SettingsPanel.jsx";
import SyncPanel from "../components/SyncPanel.jsx";
import { Notice } from "../components/ui.jsx";

const SECTIONS = [
  ["connexion", "Connexion"],
  ["synchronisation", "Synchronisation"],
  ["conflits", "Conflits"],
  ["doublons", "Doublons"],
  ["historique", "Historique"],
  ["corbeille", "Corbeille"],
  ["reglages", "Réglages"],
];

/** What the OAuth callback said when it sent the browser back here. */
function returnNoticeFrom(search) {
  const params = new URLSearchParams(search);
  const google = params.get("google");
  const error = params.get("error") || params.get("oauth_error") || (google === "error" ? params.get("reason") || "inconnue" : null);
  if (error) {
    const reasons = {
      access_denied: "Vous avez refusé l'accès : ATARYS n'est pas connecté à Google.",
      state: "La demande de connexion n'est plus valable (page ouverte deux fois ?). Cliquez à nouveau sur « Connecter Google ».",
      expired: "La demande de connexion a expiré. Cliquez à nouveau sur « Connecter Google ».",
      unreachable: "Google n'a pas pu être joint pendant la connexion. Réessayez dans un instant.",
      scope:
        "Google n'a pas donné l'accès aux contacts : cliquez à nouveau sur « Connecter Google » et laissez cochée l'autorisation d'accès à vos contacts.",
      other_session:
        "Cette connexion à Google a été lancée depuis une autre session : reconnectez-vous à ATARYS puis cliquez à nouveau sur « Connecter Google ».",
    };
    const text = reasons[error] || `La connexion à Google a échoué (${error}). Cliquez à nouveau sur « Connecter Google ».`;
    return (
      <Notice tone="error" title="Connexion à Google non aboutie" className="mb-3">
        {text}
      </Notice>
    );
  }
  const flag = params.get("connected") || params.get("auth") || params.get("google") || params.get("oauth");
  if (flag && !["0", "false", "error"].includes(flag)) {
    return (
      <Notice tone="success" className="mb-3">
        Google est connecté. Vous pouvez maintenant synchroniser vos clients.
      </Notice>
    );
  }
  return null;
}

export default function GoogleContactsPage() {
  const { search } = useLocation();
  const [status, setStatus] = useState(null);
  const [statusError, setStatusError] = useState(null);
  const [setup, setSetup] = useState(null);
  const [refreshKey, setRefreshKey] = useState(0);
  // What the OAuth callback said: shown until a run starts or ends (then it is old news).
  const [returnNotice, setReturnNotice] = useState(() => returnNoticeFrom(search));
  const [firstApplied, setFirstApplied] = useState(null);

  useEffect(() => {
    // Keep the notice, drop the callback's parameters from the address bar.
    if (search) navigate(`/google-contacts${window.location.hash}`, { replace: true });
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  const loadStatus = useCallback(() => {
    api
      .get(paths.status)
      .then(async (res) => {
        const data = res.data || {};
        if (data.authenticated && !data.last_run) {
          // Older servers leave last_run empty: take the newest run from the history.
          try {
            const runs = await api.get(paths.runs, { query: { limit: 5 } });
            const list = Array.isArray(runs.data) ? runs.data : [];
            data.last_run = list.find((r) => !r.dry_run) || null;
          } catch {
            // The card simply says there was no run yet.
          }
        }
        setStatus(data);
        setStatusError(null);
      })
      .catch((err) => {
        if (err.data && typeof err.data === "object") setStatus(err.data);
        setStatusError(err);
      });
    api
      .get(paths.setup)
      .then((res) => setSetup(res.data))
      .catch(() => setSetup(null));
  }, []);

  useEffect(() => {
    loadStatus();
  }, [loadStatus, refreshKey]);

  const refresh = () => setRefreshKey((k) => k + 1);
  const runMoved = () => {
    setReturnNotice(null);
    refresh();
  };
  const connected = Boolean(status && status.authenticated);
  const firstSync = connected && Boolean(status.first_sync_pending);
  const firstApplyDone = (answer) => {
    setFirstApplied(answer);
    runMoved();
  };

  return (
    <div>
      <h1 className="text-2xl font-semibold">Google Contacts</h1>
      <nav aria-label="Sections de la page" className="mt-3">
        <ul className="flex flex-wrap gap-2 text-sm whitespace-nowrap">
          {SECTIONS.map(([id, label]) => (
            <li key={id}>
              <a href={`#${id}`} className="block rounded-full border border-slate-300 bg-white px-3 py-1 text-slate-700 hover:bg-slate-100">
                {label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div className="mt-4 grid grid-cols-1 gap-4">
        <ConnectionCard status={status} setup={setup} error={statusError} onChanged={refresh} returnNotice={returnNotice} />
        {firstApplied && (
          <AppliedNotice title="Première synchronisation appliquée" previewed={firstApplied.previewed} result={firstApplied.result}>
            <p className="mt-2">Les prochaines synchronisations se feront automatiquement ; « Aperçu » montre à tout moment ce qui changerait.</p>
            <button type="button" className="mt-2 underline" onClick={() => setFirstApplied(null)}>
              Masquer
            </button>
          </AppliedNotice>
        )}
        {firstSync ? <FirstSyncPanel onApplied={firstApplyDone} /> : <SyncPanel connected={connected} onRunFinished={runMoved} onRunStarted={runMoved} />}
        <ConflictsPanel refreshKey={refreshKey} onResolved={refresh} />
        <DuplicatesPanel refreshKey={refreshKey} />
        <RunsHistory refreshKey={refreshKey} onChanged={refresh} />
        <TrashPanel refreshKey={refreshKey} connected={connected} onChanged={refresh} />
        <SettingsPanel connected={status ? connected : null} />
      </div>
    </div>
  );
}
