#!/usr/bin/env node
// The compiled CLI; `npm ci` builds it (package.json "prepare").
require('../dist/src/cli/main.js');
