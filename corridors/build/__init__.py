"""From catalog to network: builder inputs, the build, its cache, checks and routable network."""
