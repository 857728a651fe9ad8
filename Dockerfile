# syntax=docker/dockerfile:1
# The operator's image: the nosana-operator command (controller, node agent, and the download its
# job Pods' init containers run) on a distroless Node.js, as a non-root user, with the compiled
# JavaScript and production dependencies only. It is made the way users install the package,
# `npm pack` then `npm install` of the tarball, the steps test/integration/package.test.ts runs, so
# that test vouches for what goes in here.
#
# The project's own checks never build it: their machines have no container engine. Build it with
#   docker build -t nosana-operator:0.1.0 .
# which is the chart's default image (controller.image.repository with the chart's appVersion).

ARG NODE_MAJOR=26

FROM node:${NODE_MAJOR}-bookworm-slim AS build
WORKDIR /src
# Dependencies before sources, so a source change reuses this layer. The optional dependency is
# the Node binary npm scripts use in a checkout; the image has its own Node.
COPY package.json package-lock.json ./
RUN npm ci --omit=optional --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json README.md ./
COPY bin/ bin/
COPY src/ src/
COPY crds/ crds/
COPY deploy/ deploy/
# prepack compiles src/ into dist/; the tarball holds dist/, never the TypeScript.
RUN mkdir /pack && npm pack --pack-destination /pack
WORKDIR /app
RUN echo '{"name":"nosana-operator-image","private":true}' > package.json \
  && npm install --omit=dev --omit=optional --no-audit --no-fund /pack/nosana-operator-*.tgz

FROM gcr.io/distroless/nodejs${NODE_MAJOR}-debian12:nonroot
WORKDIR /app
COPY --from=build /app /app
# The chart's runAsUser and runAsGroup; the code stays root-owned, so the process cannot change it.
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "/app/node_modules/nosana-operator/bin/nosana-operator.js"]
