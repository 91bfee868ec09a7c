export { isPortOpen, requireService } from './testing/require-service.ts'
