import { test, expect } from '@playwright/test';
import { parseDockerfilePins, readImagePins } from '../../provision/config/pins.ts';
import { HarnessError } from '../../provision/errors.ts';

test('reads MLflow, plugin and extra pins from image/Dockerfile', () => {
  const pins = readImagePins();
  expect(pins).toMatchObject({ baseImage: 'burakince/mlflow:3.6.0', mlflow: '3.6.0', mlflowOidcAuth: '5.6.1', mlflowOidcAuthExtras: ['full'] });
  expect(pins.extraRequirements).toEqual(['cachelib[filesystem]']);
});

test('follows a bumped Dockerfile', () => {
  const pins = parseDockerfilePins('FROM burakince/mlflow:3.13.0\nRUN pip install --no-cache-dir \\\n  mlflow-oidc-auth[full]==7.3.1 \\\n  cachelib[filesystem]\n');
  expect(pins.mlflow).toBe('3.13.0');
  expect(pins.mlflowOidcAuth).toBe('7.3.1');
});

test('refuses a Dockerfile without an exact plugin pin', () => {
  expect(() => parseDockerfilePins('FROM burakince/mlflow:3.6.0\nRUN pip install mlflow-oidc-auth[full]>=5\n')).toThrow(HarnessError);
  expect(() => parseDockerfilePins('FROM python:3.11\n')).toThrow(/expected FROM burakince\/mlflow/);
});
