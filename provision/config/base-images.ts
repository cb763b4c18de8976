/**
 * What a burakince/mlflow base image brings next to MLflow, for a Dockerfile whose pins are not a named pin set:
 * its Python and the packages it adds (read from the image's own build files), and the Community Charts release
 * whose default image tag is that MLflow.
 */
export interface BaseImage {
  python: string;
  pythonSource: string;
  adds: string[];
  chart: string;
}

const TABLE: { upTo: string; image: BaseImage }[] = [
  { upTo: '3.6.99', image: { python: '3.13', pythonSource: 'burakince/mlflow images build FROM python:3.13.x-slim (tags 3.6.0 to 3.15.1)', adds: ['psycopg2-binary', 'boto3', 'prometheus-flask-exporter'], chart: '1.8.0' } },
  { upTo: '3.13.99', image: { python: '3.13', pythonSource: 'burakince/mlflow images build FROM python:3.13.x-slim (tags 3.6.0 to 3.15.1)', adds: ['psycopg2-binary', 'sqlalchemy<2.1', 'boto3', 'prometheus-flask-exporter'], chart: '1.8.5' } },
  // from 3.14 the image installs its poetry.lock exactly; SQLAlchemy 2.1 (needed by newer plugins) uses psycopg 3
  { upTo: '99.0.0', image: { python: '3.13', pythonSource: 'burakince/mlflow images build FROM python:3.13.x-slim (tags 3.6.0 to 3.15.1)', adds: ['psycopg2-binary', 'psycopg[binary]', 'boto3', 'prometheus-flask-exporter'], chart: '1.11.5' } },
];

const num = (v: string) => v.split('.').map(Number).reduce((a, x) => a * 1000 + (x || 0), 0);

export function baseImageFor(mlflow: string): BaseImage {
  return TABLE.find((r) => num(mlflow) <= num(r.upTo))!.image;
}
