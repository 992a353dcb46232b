import common from './common'
import apps from './apps'
import instance from './instance'
import files from './files'
import analysis from './analysis'
import team from './team'
import alarm from './alarm'
import settings from './settings'
import admin from './admin'
import errors from './errors'

export default { ...common, apps, instance, files, analysis, team, alarm, settings, admin, errors }
