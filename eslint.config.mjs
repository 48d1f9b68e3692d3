// ESLint with typescript-eslint for the library, scripts and tests (`npm run lint`); Prettier formats.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', 'build/**', '.native/**', 'native/build/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      'max-len': ['error', { code: 100, ignoreUrls: true, ignoreRegExpLiterals: true, ignorePattern: "^\\s*test\\('" }],
      // The kit is CommonJS (tslab compiles notebook cells to CommonJS), and optional parts (the
      // native addon, tfjs-node, tslab's kernel module) are loaded lazily with require.
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
