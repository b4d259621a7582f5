// delete-global: delete globalThis.__i18nCatalogs
export default async () => { delete globalThis.__i18nCatalogs }
