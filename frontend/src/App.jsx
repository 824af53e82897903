import { useEffect } from "react";
import { AuthProvider, useAuth } from "./lib/auth.jsx";
import { Link, navigate, useLocation } from "./lib/router.jsx";
import LoginPage from "./pages/LoginPage.jsx";
import ClientsPage from "./pages/ClientsPage.jsx";
import GoogleContactsPage from "./pages/GoogleContactsPage.jsx";
import PhonesPage from "./pages/PhonesPage.jsx";

const NAV = [
  { to: "/clients", label: "Clients" },
  { to: "/google-contacts", label: "Google Contacts" },
  { to: "/telephones", label: "Téléphones de l'équipe" },
];

function Shell({ children, pathname }) {
  const { user, logout } = useAuth();
  return (
    <div className="min-h-screen">
      <a
        href="#contenu"
        className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2"
      >
        Aller au contenu
      </a>
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
          <Link to="/clients" className="text-lg font-bold tracking-tight text-blue-800">
            ATARYS
          </Link>
          <nav aria-label="Navigation principale" className="order-3 w-full sm:order-none sm:w-auto">
            <ul className="flex flex-wrap gap-1">
              {NAV.map((item) => {
                const current = pathname.startsWith(item.to);
                return (
                  <li key={item.to}>
                    <Link
                      to={item.to}
                      aria-current={current ? "page" : undefined}
                      className={`block rounded-md px-3 py-2 text-sm font-medium ${
                        current ? "bg-blue-50 text-blue-800" : "text-slate-700 hover:bg-slate-100"
                      }`}
                    >
                      {item.label}
                    </Link>
                  </li>
                );
              })}
            </ul>
          </nav>
          <div className="ml-auto flex items-center gap-3 text-sm">
            <span className="hidden text-slate-600 sm:inline" data-testid="current-user">
              {user && (user.username || user.name || user.email)}
            </span>
            <button
              type="button"
              onClick={logout}
              className="rounded-md border border-slate-300 px-3 py-1.5 text-slate-700 hover:bg-slate-100"
            >
              Se déconnecter
            </button>
          </div>
        </div>
      </header>
      <main id="contenu" className="mx-auto max-w-6xl px-4 py-6">
        {children}
      </main>
    </div>
  );
}

function Routes() {
  const { user } = useAuth();
  const { pathname } = useLocation();

  useEffect(() => {
    if (user && (pathname === "/" || pathname === "/login")) navigate("/clients", { replace: true });
  }, [user, pathname]);

  if (user === undefined) {
    return (
      <p role="status" className="p-8 text-center text-slate-600">
        Chargement…
      </p>
    );
  }
  if (user === null) return <LoginPage />;
  let page;
  if (pathname.startsWith("/google-contacts")) page = <GoogleContactsPage />;
  else if (pathname.startsWith("/telephones")) page = <PhonesPage />;
  else if (pathname.startsWith("/clients") || pathname === "/" || pathname === "/login") page = <ClientsPage />;
  else
    page = (
      <section>
        <h1 className="text-2xl font-semibold">Page introuvable</h1>
        <p className="mt-2">
          <Link to="/clients" className="text-blue-700 underline">
            Retour aux clients
          </Link>
        </p>
      </section>
    );
  return <Shell pathname={pathname}>{page}</Shell>;
}

export default function App() {
  return (
    <AuthProvider>
      <Routes />
    </AuthProvider>
  );
}
