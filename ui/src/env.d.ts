// Stylesheets are imported for Vite, which bundles them; TypeScript only needs to know they exist.
declare module '*.css';
