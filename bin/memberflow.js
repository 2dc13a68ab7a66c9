#!/usr/bin/env node
// The memberflow CLI. In production (NODE_ENV=production) it runs the compiled build in dist/
// (`npm run build`); in development it runs the TypeScript directly through tsx, so there is no
// build step to forget.
if (process.env.NODE_ENV === 'production') {
  const compiled = new URL('../dist/cli/main.js', import.meta.url);
  await import(compiled.href).catch((err) => {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('dist/cli/main.js')) throw err;
    process.stderr.write(
      'memberflow: NODE_ENV=production runs the compiled build, and dist/ has none: run `npm run build` first\n',
    );
    process.exit(1);
  });
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
