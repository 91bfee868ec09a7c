import { defineConfig } from 'drizzle-kit'

/** drizzle-kit: generates SQL migrations from the store's schema (`npm run db:generate -w daemon`). */
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/store/tables.ts',
  out: './src/store/migrations',
})
