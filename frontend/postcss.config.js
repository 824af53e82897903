// Tailwind v3 through PostCSS: pure JavaScript, so `npm ci` needs no platform binary.
export default {
  plugins: {
    tailwindcss: {},
  },
};
