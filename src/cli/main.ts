#!/usr/bin/env node
import 'reflect-metadata';
import { buildProgram } from './program';
import { reportAndExit } from './output';

buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => reportAndExit(error));
