#!/usr/bin/env node
// The compiled CLI; `npm ci` builds it (package.json "prepare").
// Node 22.1+ keeps compiled bytecode on disk between runs (shorter start of every command).
require('node:module').enableCompileCache?.();
require('../dist/src/cli/main.js');
